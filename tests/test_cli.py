"""The command line: each command runs, and bad arguments get a message, not a traceback."""

import json
import subprocess
import sys

import pytest

from glorot_ext.cli import main


def test_info_reports_the_build(capsys):
    assert main(["info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert {"openmp", "native", "simd", "eigen", "threads", "numpy"} <= set(info)


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "glorot_ext", "info"], capture_output=True, text=True, check=True)
    assert '"eigen"' in out.stdout


def test_train_writes_a_checkpoint_and_a_model(tmp_path, capsys):
    model = tmp_path / "m.npz"
    argv = ["--threads", "1", "train", "--depth", "2", "--width", "16", "--updates", "40", "--eval-every", "20",
            "--n-eval", "100", "--out", str(tmp_path / "runs"), "--save-model", str(model)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "final_test_error" in out and model.exists()
    assert len(list((tmp_path / "runs").glob("*/checkpoint.npz"))) == 1
    assert main(argv) == 0  # a second call resumes a finished run: nothing to do, same result
    assert "resumed" in capsys.readouterr().out


def test_shapeset_grid_writes_a_png(tmp_path):
    path = tmp_path / "grid.png"
    assert main(["shapeset", str(path), "-n", "6", "--cols", "3"]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--lr", "-1"], "expected a finite positive number, got '-1'"),
        (["train", "--updates", "ten"], "expected a positive integer, got 'ten'"),
        (["train", "--activation", "swish"], "invalid choice: 'swish'"),
        (["reproduce", "--seeds", "a,b"], "expected comma-separated integers"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["--threads", "0", "info"], "expected a positive integer, got '0'"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_data_is_an_error_message_naming_the_files(tmp_path, capsys):
    code = main(["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--updates", "1",
                 "--out", str(tmp_path / "runs")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("glorot-ext: error:") and "train-images-idx3-ubyte" in err and str(tmp_path) in err


def test_unknown_init_is_an_error_message(tmp_path, capsys):
    code = main(["train", "--init", "xavier", "--updates", "1", "--out", str(tmp_path)])
    assert code == 1
    assert "unknown initializer 'xavier'" in capsys.readouterr().err
