from sims import warmup as warmup_mod
from sims.cli import build_parser


def test_warmup_builds_every_network_kind_with_progress():
    msgs = []
    total = warmup_mod.warmup(log=msgs.append)
    n = len(warmup_mod.TARGETS)
    assert n >= 5 and total > 0
    for k, (label, _) in enumerate(warmup_mod.TARGETS, 1):
        assert f"[{k}/{n}] {label} ..." in msgs  # announced before it starts
        assert any(m.startswith(f"[{k}/{n}] {label}: ") and m.endswith(" s") for m in msgs)
    assert msgs[-1].startswith("neuroplast warmup: done in ")


def test_warmup_is_a_cli_command():
    args = build_parser().parse_args(["warmup"])
    assert args.func is warmup_mod._cmd_warmup
