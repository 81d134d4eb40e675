from tests.conftest import login


def test_smoke(client, world):
    assert client.get("/healthz").json == {"status": "ok"}
    login(client, world.assistant_a)
    r = client.get("/households/")
    assert r.status_code == 200, r.data.decode()[:2000]
    body = r.get_data(as_text=True)
    assert "张明华" in body and "杨梅国" not in body
    r = client.get(f"/households/{world.household_a.id}")
    assert r.status_code == 200, r.get_data(as_text=True)[:3000]
    assert client.get(f"/households/{world.household_b.id}").status_code == 404
    assert client.get("/").status_code == 200
    assert client.get("/me").status_code == 200
    assert client.get("/households/new").status_code == 200
    assert client.get(f"/households/{world.household_a.id}/edit").status_code == 200
