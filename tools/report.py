"""Quiesce latency report: aggregates the JSON lines written by the quiesce sweeps.

Input: ``quiesce_latency.jsonl`` files (tb/qharness.py writes one object per completed
quiesce: scenario, sim, t0, measured Q_CYCLES, RTL Q_CYCLES, bound, outstanding bytes
at t0, last response edge, ...). Output in ``--out`` (default build/report):

* ``quiesce_report.json``: per (simulator, scenario) n, min, median, p99, max of
  Q_CYCLES, the tightest and loosest bound, the smallest margin (bound - Q_CYCLES),
  the phases seen at t0; plus every violation;
* ``quiesce_report.md``: the same as a Markdown table;
* ``latency_hist_<family>.png``: Q_CYCLES histogram per scenario (one figure per
  scenario family: state, beat, load, multi, fault, ll — the linked-list walk, one
  scenario per phase the quiesce met: fetch, data, between, final, msi, after);
* ``latency_vs_outstanding.png``: Q_CYCLES against the bytes outstanding at t0 and
  against the last response edge (relative to t0), with the SPEC 2.3 bound drawn.

Exit status 1 if any sample violates the bound, if the RTL's Q_CYCLES differs from the
measured one, or if there is no sample at all. Usage:
``python tools/report.py build/report/raw/*.jsonl --out build/report``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model.timing import Q_IDLE_MAX  # noqa: E402
from tb.runner import out_dir_arg  # noqa: E402

#: the fields of a sample the report computes with: numbers (or null: not measured)
NUMBERS = ("measured", "bound", "q_rtl", "t0", "out_bytes", "resp_delay")


def load(paths: list[Path]) -> list[dict]:
    rows = []
    for p in paths:
        if not p.exists():
            raise SystemExit(f"{p}: no such file or folder")
        files = sorted(p.rglob("*.jsonl")) if p.is_dir() else [p]
        for f in files:
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as e:
                        raise SystemExit(f"{f}:{n}: not JSON: {e}") from e
                    if not isinstance(row, dict):
                        raise SystemExit(f"{f}:{n}: not a quiesce sample (a JSON object): {line[:80]}")
                    for key in NUMBERS:
                        v = row.get(key)
                        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                            raise SystemExit(f"{f}:{n}: {key}={v!r} is not a number")
                    rows.append(row)
    return rows


def violations(rows: list[dict]) -> list[str]:
    out = []
    for r in rows:
        where = (f"{r.get('sim', '?')} {r.get('scenario', '?')} channel {r.get('g')} "
                 f"t0={r.get('t0')}")
        q, b = r.get("measured"), r.get("bound")
        if q is None or b is None:
            out.append(f"{where}: incomplete sample (measured={q}, bound={b})")
            continue
        if q > b:
            out.append(f"{where}: quiesce took {q} cycles, bound {b} "
                       f"(last response={r.get('last_resp')})")
        rtl = r.get("q_rtl")
        if rtl is not None and rtl != q:
            out.append(f"{where}: RTL Q_CYCLES {rtl} != measured {q}")
        if rtl is not None and rtl != q and rtl > b:
            out.append(f"{where}: RTL Q_CYCLES {rtl} > bound {b}")
    return out


def stats(rows: list[dict]) -> list[dict]:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r.get("sim", "?"), r.get("scenario", "?"))].append(r)
    out = []
    for (sim, scen), rs in sorted(groups.items()):
        rs = [r for r in rs if r.get("measured") is not None and r.get("bound") is not None]
        if not rs:
            continue
        q = np.array([r["measured"] for r in rs], dtype=float)
        b = np.array([r["bound"] for r in rs], dtype=float)
        phases: dict[str, int] = defaultdict(int)
        for r in rs:
            phases[r.get("phase", "?")] += 1
        out.append({
            "sim": sim, "scenario": scen, "n": len(rs),
            "min": int(q.min()), "median": float(np.median(q)),
            "p99": float(np.percentile(q, 99)), "max": int(q.max()),
            "bound_min": int(b.min()), "bound_max": int(b.max()),
            "margin": int((b - q).min()),
            "out_bytes_max": int(max(r.get("out_bytes", 0) for r in rs)),
            "phases": dict(sorted(phases.items())),
        })
    return out


def markdown(st: list[dict], viol: list[str], n: int) -> str:
    lines = [
        "# Quiesce latency report",
        "",
        f"{n} quiesces. Q_CYCLES = cycles from t0 (RECLAIM+QUIESCE write) until STATE is "
        f"LOCAL. Bound (SPEC 2.3): Q_IDLE_MAX={Q_IDLE_MAX} cycles after t0, or after the last "
        "response of the bursts outstanding at t0; it differs per sample, so the table gives "
        "its range and the smallest margin (bound - Q_CYCLES).",
        "",
        "| sim | scenario | n | min | median | p99 | max | bound (min..max) | margin | phases at t0 |",
        "|---|---|---:|---:|---:|---:|---:|---|---:|---|",
    ]
    for s in st:
        ph = ", ".join(f"{k} {v}" for k, v in s["phases"].items())
        lines.append(f"| {s['sim']} | {s['scenario']} | {s['n']} | {s['min']} | {s['median']:g} | "
                     f"{s['p99']:.1f} | {s['max']} | {s['bound_min']}..{s['bound_max']} | "
                     f"{s['margin']} | {ph} |")
    lines += ["", f"Violations: {len(viol)}"]
    lines += [f"- {v}" for v in viol[:50]]
    return "\n".join(lines) + "\n"


def plots(rows: list[dict], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    files = []
    rows = [r for r in rows if r.get("measured") is not None]
    fams: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        scen = r.get("scenario", "?")
        fams[scen.split(":")[0]][scen].append(r)
    sims = sorted({r.get("sim", "?") for r in rows})
    colors = dict(zip(sims, ("tab:blue", "tab:orange", "tab:green"), strict=False))
    for fam, scens in sorted(fams.items()):
        names = sorted(scens)
        ncol = min(4, len(names))
        nrow = -(-len(names) // ncol)
        fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow), squeeze=False)
        for ax, name in zip(axes.flat, names, strict=False):
            rs = scens[name]
            qmax = max(r["measured"] for r in rs)
            bins = np.arange(0, qmax + 2) - 0.5 if qmax <= 60 else 30
            data = [[r["measured"] for r in rs if r.get("sim") == s] for s in sims]
            ax.hist(data, bins=bins, label=sims, color=[colors[s] for s in sims], stacked=True)
            margin = min(r["bound"] - r["measured"] for r in rs)
            ax.set_title(f"{name}\nn={len(rs)}, min margin to bound {margin}", fontsize=9)
            ax.set_xlabel("Q_CYCLES (cycles t0 -> LOCAL)", fontsize=8)
            ax.set_ylabel("quiesces", fontsize=8)
            ax.tick_params(labelsize=8)
            ax.set_xlim(left=0)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for ax in list(axes.flat)[len(names):]:
            ax.axis("off")
        axes.flat[0].legend(fontsize=8)
        fig.suptitle(f"Quiesce latency per scenario: {fam}", fontsize=11)
        fig.tight_layout()
        f = out / f"latency_hist_{fam}.png"
        fig.savefig(f, dpi=110)
        plt.close(fig)
        files.append(f)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 5))
    phase_col = {"no_burst": "tab:gray", "mid_read": "tab:blue", "last_beat": "tab:red",
                 "write": "tab:green"}
    rng = np.random.default_rng(0)
    for ph, col in phase_col.items():
        rs = [r for r in rows if r.get("phase") == ph]
        if not rs:
            continue
        x = np.array([r.get("out_bytes", 0) for r in rs], dtype=float)
        jit = rng.uniform(-1.2, 1.2, len(rs))
        a1.scatter(x + jit, [r["measured"] for r in rs], s=12, alpha=0.6, color=col,
                   label=f"{ph} at t0 ({len(rs)})")
        a2.scatter([r.get("resp_delay", 0) for r in rs], [r["measured"] for r in rs], s=12,
                   alpha=0.6, color=col, label=f"{ph} at t0")
    a1.scatter([r.get("out_bytes", 0) for r in rows], [r["bound"] for r in rows], marker="_",
               s=80, color="black", alpha=0.5, label="bound of each sample")
    a1.set_xlabel("bytes outstanding at t0 (burst already presented)")
    a1.set_ylabel("Q_CYCLES")
    a1.set_title("Quiesce latency vs outstanding bytes")
    a1.legend(fontsize=8)
    a1.grid(alpha=0.3)
    xmax = max([r.get("resp_delay", 0) for r in rows] + [1])
    xs = np.array([0, xmax])
    a2.plot(xs, xs + Q_IDLE_MAX, color="black", lw=1.5,
            label=f"bound: last response + Q_IDLE_MAX ({Q_IDLE_MAX})")
    a2.set_xlabel("last response of outstanding bursts - t0 (cycles; 0 = none)")
    a2.set_ylabel("Q_CYCLES")
    a2.set_title("Quiesce latency vs last response (SPEC 2.3 bound)")
    a2.legend(fontsize=8)
    a2.grid(alpha=0.3)
    fig.suptitle(f"{len(rows)} quiesces, simulators: {', '.join(sims)}")
    fig.tight_layout()
    f = out / "latency_vs_outstanding.png"
    fig.savefig(f, dpi=110)
    plt.close(fig)
    files.append(f)
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", type=Path, help="JSON lines files or folders")
    ap.add_argument("--out", type=out_dir_arg, default=ROOT / "build" / "report")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args(argv)
    rows = load(args.inputs)
    if not rows:   # checked before writing: an earlier report in --out is kept
        raise SystemExit("no quiesce samples found in " + ", ".join(map(str, args.inputs))
                         + f": nothing written to {args.out}")
    args.out.mkdir(parents=True, exist_ok=True)
    st = stats(rows)
    viol = violations(rows)
    js = args.out / "quiesce_report.json"
    js.write_text(json.dumps({"q_idle_max": Q_IDLE_MAX, "samples": len(rows), "scenarios": st,
                              "violations": viol}, indent=2) + "\n")
    md = args.out / "quiesce_report.md"
    md.write_text(markdown(st, viol, len(rows)))
    for old in args.out.glob("latency_*.png"):   # an earlier report's figures
        old.unlink()
    files = [js, md] + ([] if args.no_plots or not rows else plots(rows, args.out))
    print(f"quiesce report: {len(rows)} samples, {len(st)} scenario groups, "
          f"{len(viol)} violation(s)")
    for f in files:
        print(f"  {f}")
    if viol:
        print("BOUND VIOLATIONS:", file=sys.stderr)
        for v in viol[:20]:
            print(f"  {v}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
