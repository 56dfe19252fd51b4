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


def test_warmup_builds_the_liquid_that_run_nalsm_builds_by_default():
    from sims.nalsm import NALSMConfig
    from sims.parsing import parse_grid
    from spiking.liquid import LiquidConfig

    cfg = NALSMConfig()
    expected = LiquidConfig(
        grid_shape=parse_grid(cfg.grid),
        n_input=784,
        init_steps=cfg.init_steps,
        sample_steps=cfg.sample_steps,
        lr_decay=cfg.lr_decay,
    )
    assert warmup_mod.nalsm_liquid_config(784) == expected
    assert cfg.engine == "brian2" and cfg.backend == "cython"  # what the warmup compiles
