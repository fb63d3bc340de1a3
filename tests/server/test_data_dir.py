import logging

from jupyter_events_ext.server.data_dir import ServerFiles


def test_a_named_servers_dead_letters_have_its_name(tmp_path):
    log = logging.getLogger("test")
    default = ServerFiles(str(tmp_path), "", log)
    named = ServerFiles(str(tmp_path), "gpu/2", log)

    assert default.dead_letters == str(tmp_path / "dead-letter.jsonl")
    # As the sink is named: only what is safe in a file name.
    assert named.dead_letters == str(tmp_path / "dead-letter-gpu_2.jsonl")
