"""The app starts, migrations run and the start page renders."""


def test_start_page_renders(client):
    response = client.get('/')
    assert response.status_code == 200
    assert b"Children&#39;s Social Care Provider Registry" in response.data


def test_migrations_load_the_153_authorities(app_ctx):
    from registry.extensions import db
    from registry.geography.models import LocalAuthority

    assert db.session.query(LocalAuthority).count() == 153
    assert db.session.get(LocalAuthority, 'E08000038').dfe_code == '370'
