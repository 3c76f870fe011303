from tests.conftest import form_token


def test_learner_signs_in_and_sees_their_path(library_app, make_user, client, auth):
    make_user(job_role="teller")
    response = auth.login()
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Teller onboarding" in page
    quiz = client.get("/lessons/teller-greeting-at-the-counter/quiz/1").get_data(as_text=True)
    assert form_token(quiz)
