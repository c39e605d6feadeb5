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
    argv = [
        "--threads",
        "1",
        "train",
        "--depth",
        "2",
        "--width",
        "16",
        "--updates",
        "40",
        "--eval-every",
        "20",
        "--n-eval",
        "100",
        "--out",
        str(tmp_path / "runs"),
        "--save-model",
        str(model),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "final test error" in out and f"wrote {model}" in out and model.exists()
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
    code = main(
        ["train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--updates", "1", "--out", str(tmp_path / "runs")]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("glorot-ext: error:") and "train-images-idx3-ubyte" in err and str(tmp_path) in err


def test_unknown_init_is_an_error_message(tmp_path, capsys):
    code = main(["train", "--init", "xavier", "--updates", "1", "--out", str(tmp_path)])
    assert code == 1
    assert "unknown initializer 'xavier'" in capsys.readouterr().err


def _cli(*args, cwd=None, env=None):
    import os

    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "glorot_ext", *args], cwd=cwd, env=full_env, capture_output=True, text=True
    )


_TINY_TRAIN = ["train", "--depth", "1", "--width", "8", "--updates", "4", "--eval-every", "2", "--n-eval", "50"]


def test_version_prints_the_package_version():
    import glorot_ext

    done = _cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"glorot-ext {glorot_ext.__version__}"


def test_global_options_are_accepted_after_the_command(tmp_path):
    done = _cli(*_TINY_TRAIN, "--threads", "1", "--quiet", "--out", "runs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "updates, val error" not in done.stdout  # --quiet: no per-evaluation lines
    bad = _cli("train", "--threads", "0", cwd=tmp_path)
    assert bad.returncode == 2 and "expected a positive integer, got '0'" in bad.stderr


def test_help_shows_defaults_in_plain_text():
    out = _cli("train", "--help", env={"COLUMNS": "200"}).stdout  # one option per line
    assert "(default: 0.03)" in out and "(default: 20000, or --budget's)" in out and "(default: runs/train)" in out
    assert "(default: 0)" in out  # --seed: a falsy default is still shown
    top = _cli("--help", env={"COLUMNS": "200"}).stdout
    assert "``" not in out + top and "--version" in top


def test_train_budget_sets_the_run_length_and_density_and_explicit_options_win(tmp_path):
    from glorot_ext.experiments.reproduction import budget_for

    quick = budget_for("quick", "shapeset")
    argv = ["--threads", "1", "--quiet", "train", "--budget", "quick", "--depth", "2", "--width", "16"]
    assert main([*argv, "--updates", "60", "--eval-every", "30", "--out", str(tmp_path / "a")]) == 0
    (run,) = (tmp_path / "a").iterdir()
    cfg = json.loads((run / "result.json").read_text())["config"]
    assert (cfg["n_updates"], cfg["eval_every"]) == (60, 30)  # given: they win
    assert (cfg["n_eval"], cfg["monitor_every"]) == (quick.n_eval, 60)  # the budget's, capped at the run
    assert (run / "record.json").is_file()
    # without --budget: train's own defaults, no monitor
    assert main([*argv[:4], "--depth", "2", "--width", "16", "--updates", "40", "--out", str(tmp_path / "b")]) == 0
    (run,) = (tmp_path / "b").iterdir()
    cfg = json.loads((run / "result.json").read_text())["config"]
    assert (cfg["eval_every"], cfg["n_eval"], cfg["monitor_every"]) == (40, 10_000, 0)
    assert not (run / "record.json").exists()


def test_train_says_where_it_wrote_and_the_errors_in_percent(tmp_path):
    done = _cli(*_TINY_TRAIN, "--out", "runs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    wrote = [line.split(" ", 1)[1] for line in lines if line.startswith("wrote ")]
    assert {p.rsplit("/", 1)[1] for p in wrote} == {"checkpoint.npz", "result.json"}
    assert all((tmp_path / p).is_file() for p in wrote)
    import re

    assert re.fullmatch(
        r"final test error \d+\.\d\d%, test error at the best validation error \d+\.\d\d% "
        r"\(update \d+\), \d+\.\d\d ms/update",
        lines[-2],
    )
    # and last, where the run's time went, part by part, adding up to the whole
    assert re.fullmatch(r"time: step \d+% \([\d.,]+ s\), data .*, other \d+% \([\d.,]+ s\) of [\d.,]+ s", lines[-1])


def test_train_monitor_every_writes_the_record_and_the_figures(tmp_path):
    done = _cli(*_TINY_TRAIN, "--monitor-every", "2", "--out", "runs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (run,) = (tmp_path / "runs").iterdir()
    assert (run / "record.json").is_file()
    figures = {p.name for p in (run / "figures").iterdir()}
    assert {"fig2_activation_mean_std.png", "fig9_weight_gradient_bands.png", "fig6_hist_act_init.png"} <= figures


def test_shapeset_creates_the_folder_of_the_file_it_names(tmp_path):
    done = _cli("shapeset", "figs/sub/grid.png", "-n", "4", "--cols", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "figs" / "sub" / "grid.png").read_bytes()[:4] == b"\x89PNG"


def test_a_failed_run_leaves_no_empty_folders(tmp_path):
    done = _cli("train", "--dataset", "mnist", "--data-dir", "nowhere", "--out", "runs/m", cwd=tmp_path)
    assert done.returncode == 1
    assert list(tmp_path.iterdir()) == []


def test_missing_mnist_names_the_files_the_folders_and_how_to_point_at_them(tmp_path):
    done = _cli("train", "--dataset", "mnist", "--data-dir", "nowhere", cwd=tmp_path)
    err = done.stderr
    assert done.returncode == 1 and err.count("glorot-ext: error:") == 1
    for name in (
        "train-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        str(tmp_path / "nowhere" / "mnist"),
        str(tmp_path / "nowhere"),
        "--data-dir DIR",
        "GLOROT_EXT_DATA=DIR",
    ):
        assert name in err
    assert "data_dir=..." not in err


def test_missing_cifar10_directory_is_reported_once(tmp_path):
    done = _cli("train", "--dataset", "cifar10", cwd=tmp_path, env={"GLOROT_EXT_DATA": ""})
    err = done.stderr
    assert done.returncode == 1
    assert err.count("no data directory") == 1 and err.count("GLOROT_EXT_DATA") == 1
    assert "data_batch_1.bin" in err and "--data-dir DIR" in err


def test_missing_cifar10_files_name_both_versions_and_where_the_folder_came_from(tmp_path):
    done = _cli("train", "--dataset", "cifar10", cwd=tmp_path, env={"GLOROT_EXT_DATA": str(tmp_path)})
    err = done.stderr
    assert done.returncode == 1
    assert "binary version: looked for" in err and "python version: looked for" in err
    assert str(tmp_path / "cifar-10-batches-bin") in err and "(from $GLOROT_EXT_DATA)" in err


def test_no_progress_bar_when_not_a_terminal_one_with_progress_none_with_quiet(tmp_path):
    plain = _cli(*_TINY_TRAIN, "--out", "a", cwd=tmp_path)
    forced = _cli(*_TINY_TRAIN, "--out", "b", "--progress", cwd=tmp_path)
    quiet = _cli(*_TINY_TRAIN, "--out", "c", "--progress", "--quiet", cwd=tmp_path)
    assert all(d.returncode == 0 for d in (plain, forced, quiet)), forced.stderr
    assert "upd" not in plain.stderr and "updates, val error" in plain.stdout
    assert "4/4" in forced.stderr and "upd" in forced.stderr
    assert "upd" not in quiet.stderr and "updates, val error" not in quiet.stdout


def test_without_tqdm_a_progress_run_keeps_its_log_lines(tmp_path, monkeypatch):
    from glorot_ext.experiments import RunConfig, run

    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    lines = []
    run(RunConfig(depth=1, width=8, n_updates=4, eval_every=2, n_eval=20), tmp_path, progress=True, log=lines.append)
    assert sum("updates, val error" in line for line in lines) == 2


def test_ctrl_c_ends_with_one_clean_line_and_exit_130(tmp_path):
    import os
    import signal
    import time

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "glorot_ext",
            "train",
            "--depth",
            "1",
            "--width",
            "8",
            "--updates",
            "10000000",
            "--eval-every",
            "50",
            "--n-eval",
            "20",
            "--progress",
            "--out",
            "runs",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background job inherits SIGINT ignored, and Python then leaves it ignored;
        # Ctrl-C in a terminal finds it at its default, so the child starts from that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 300
    while not list((tmp_path / "runs").glob("*/checkpoint.npz")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired as e:  # say where it stood
        proc.kill()
        proc.communicate()
        tail = (e.stderr or b"")[-1500:]
        pytest.fail(f"train did not exit within 120 s of SIGINT; the end of its stderr: {tail!r}")
    assert proc.returncode == 130, err[-1500:]
    last = err.rstrip("\n").split("\n")[-1]
    assert last == "interrupted: completed work is checkpointed; run the same command again to resume"
    assert "Traceback" not in err


def test_train_without_matplotlib_skips_the_figures_and_says_how_to_get_them(tmp_path, monkeypatch, capsys):
    import glorot_ext
    from glorot_ext import cli

    # as if matplotlib were not installed; the package attribute goes too, or an earlier import
    # of plots would satisfy `from glorot_ext import plots` without looking in sys.modules
    monkeypatch.setitem(sys.modules, "glorot_ext.plots", None)
    monkeypatch.delattr(glorot_ext, "plots", raising=False)
    assert cli._figures(tmp_path / "record.json", tmp_path / "figures") == []
    assert "pip install 'glorot_ext[plots]'" in capsys.readouterr().err
