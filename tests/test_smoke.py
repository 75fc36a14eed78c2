from tests.helpers import build_world


def test_world_builds(ctx):
    w = build_world(ctx)
    c = w.recorder.ok(w.contribute())
    assert c["receipt"]["number"] == "HNVNN-2025-000001"
