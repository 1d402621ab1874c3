from pathlib import Path

from attrition.ingest.http_fetch import Validators
from attrition.ingest.poller_state import PollerState


def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "data" / "poller-state.json"
    state = PollerState.load(path)
    assert state.validators == {} and state.published == {}
    state.remember(
        {"https://a.example/": Validators(etag='"1"')}, {"web:abc": "https://a.example/"}
    )
    state.save(path)
    again = PollerState.load(path)
    assert again.validators_for("https://a.example/") == Validators(etag='"1"')
    assert again.validators_for("https://b.example/") == Validators()
    assert "web:abc" in again.published
    assert not path.with_name(path.name + ".tmp").exists()


def test_a_damaged_state_file_means_starting_afresh(tmp_path: Path) -> None:
    path = tmp_path / "poller-state.json"
    path.write_text("{not json")
    assert PollerState.load(path).published == {}
