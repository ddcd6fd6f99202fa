"""gunicorn.conf.py: each worker loads the whole project, then freezes it out of the garbage collector's scans."""

import gc
import importlib.util
from pathlib import Path

import pytest


@pytest.fixture
def gunicorn_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf", Path(__file__).parents[2] / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    gc.unfreeze()


def test_worker_start_freezes_the_loaded_project(gunicorn_conf):
    """After post_worker_init, the objects loaded so far (URL modules included) are frozen."""
    gc.unfreeze()
    gunicorn_conf.post_worker_init(worker=None)
    assert gc.get_freeze_count() > 10_000
    assert "catalogue.views.public" in __import__("sys").modules
