"""``neuroplast run reservoir`` imports nothing heavy it does not use (issue 12, part 3):
not the other simulations, not Numba (a short run draws its noise with NumPy), not pyplot."""

import json
import subprocess
import sys


def test_short_reservoir_run_imports_only_what_it_uses(tmp_path):
    code = (
        "import json, sys\n"
        "import sims.cli as cli\n"
        f"rc = cli.main(['run', 'reservoir', '--n-neurons', '50', '--duration', '50ms', "
        f"'--no-progress', '--out', {str(tmp_path / 'out')!r}])\n"
        "mods = [m for m in ('numba', 'matplotlib.pyplot', 'sims.nalsm', 'sims.continual', "
        "'sims.scan', 'pandas', 'dask', 'sklearn') if m in sys.modules]\n"
        "print(json.dumps({'rc': rc, 'loaded': mods}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"rc": 0, "loaded": []}
    assert (tmp_path / "out" / "raster.png").stat().st_size > 0  # plotted without pyplot


def test_parser_for_one_simulation_parses_like_the_whole_one():
    from sims import cli

    argv = ["run", "reservoir", "--n-neurons", "200", "--duration", "2s", "--seed", "3"]
    part, whole = cli.build_parser(cli._parser_part(argv)), cli.build_parser()
    assert vars(part.parse_args(argv)) == vars(whole.parse_args(argv))
    argv = ["scan", "spec.toml", "--workers", "2"]
    assert cli._parser_part(argv) == cli.COMMANDS_ONLY
    part = cli.build_parser(cli.COMMANDS_ONLY)
    assert vars(part.parse_args(argv)) == vars(cli.build_parser().parse_args(argv))
