"""`rehearse --svg FILE`: the rehearsal's timeline as a picture (matplotlib, the CLI's `svg` extra).

Top: the new version's share of the traffic over time. Below it, one band per gate alarm coloured by
its state, and the hook runs. Vertical marks: the first bad answer, the decision to roll back (or
stop), and the moment the traffic was back on the old version.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from safedeploy.errors import UserError

STATE_COLOURS = {"OK": "#2e7d32", "ALARM": "#c62828", "INSUFFICIENT_DATA": "#b0bec5"}
HOOK_COLOURS = {"Succeeded": "#2e7d32"}
FAILED = "#c62828"


def _short(alarm: str) -> str:
    """`rehearsal-HelloWorldFunction-live-gate-error-rate` -> `gate-error-rate`."""
    return alarm[alarm.find("gate-") :] if "gate-" in alarm else alarm


def draw(report: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        matplotlib.rcParams["svg.hashsalt"] = "safedeploy"  # the same picture for the same rehearsal
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError as exc:
        raise UserError("--svg needs matplotlib: pip install 'safedeploy[svg]'") from exc

    timeline = report["timeline"]
    end = max(float(report["simulated_s"]), 1.0)
    right = end * 1.05  # room after the end: the last change (a rollback) stays visible
    alarms = timeline["alarms"]
    rows = len(alarms) + 1  # + the hooks
    fig, (share_ax, band_ax) = plt.subplots(
        2,
        1,
        sharex=True,
        figsize=(10, 3 + 0.35 * rows),
        gridspec_kw={"height_ratios": [3, 0.35 * rows + 0.4]},
    )

    points = timeline["new_version_share"]
    xs = [p["t_s"] for p in points] + [right]
    ys = [p["percent"] for p in points] + [points[-1]["percent"]]
    share_ax.step(xs, ys, where="post", color="#1565c0", linewidth=2)
    share_ax.fill_between(xs, ys, step="post", color="#1565c0", alpha=0.15)
    share_ax.set_ylim(0, 105)
    share_ax.set_ylabel(f"v{report['new_version']} share (%)")
    caught = report.get("caught_by")
    outcome = report["status"] + (f", caught by {_short(caught)}" if caught else "")
    fault = report.get("fault", "none")
    if fault != "none":
        fault = f"{fault} {report.get('fault_rate', 100):g} %"
    share_ax.set_title(
        f"{report['function']} v{report['old_version']} → v{report['new_version']} · "
        f"{report['deployment_type']}\nfault {fault} · {outcome}",
        fontsize=10,
        loc="left",
    )

    labels = []
    for row, (name, changes) in enumerate(alarms.items()):
        for index, change in enumerate(changes):
            until = changes[index + 1]["t_s"] if index + 1 < len(changes) else end
            band_ax.broken_barh(
                [(change["t_s"], max(until - change["t_s"], 0.1))],
                (row - 0.4, 0.8),
                color=STATE_COLOURS.get(change["state"], "#b0bec5"),
            )
        labels.append(_short(name))
    hooks_row = len(alarms)
    for run in timeline["hooks"]:
        width = max(run["end_s"] - run["start_s"], end / 200)
        colour = HOOK_COLOURS.get(run["status"], FAILED)
        band_ax.broken_barh([(run["start_s"], width)], (hooks_row - 0.4, 0.8), color=colour)
        band_ax.annotate(
            run["phase"],
            (run["start_s"] + width, hooks_row),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=7,
        )
    labels.append("hooks")
    band_ax.set_yticks(range(rows), labels, fontsize=8)
    band_ax.set_ylim(-0.6, rows - 0.4)
    band_ax.invert_yaxis()
    band_ax.set_xlim(0, right)
    band_ax.set_xlabel("simulated seconds since the deployment started")

    marks = [
        (report.get("first_bad_request_s"), "first bad answer", "#ef6c00"),
        (timeline.get("detected_s"), "rollback decided", "#c62828"),
        (report.get("rollback_s"), "traffic back on v" + str(report["old_version"]), "#6a1b9a"),
    ]
    for height, (t, text, colour) in zip((98, 84, 70), marks, strict=True):
        if t is None:
            continue
        for ax in (share_ax, band_ax):
            ax.axvline(t, color=colour, linestyle="--", linewidth=1)
        # labels to the left of a mark in the last third, so that none runs off the picture
        before = t > right * 0.66
        share_ax.annotate(
            f"{text} ({t:.0f} s)",
            (t, height),
            xytext=(-3 if before else 3, 0),
            textcoords="offset points",
            ha="right" if before else "left",
            va="top",
            color=colour,
            fontsize=8,
        )
    legend = [Patch(color=c, label=f"alarm {state}") for state, c in STATE_COLOURS.items()]
    band_ax.legend(
        handles=legend, loc="upper right", bbox_to_anchor=(1.0, -0.45), ncol=3, fontsize=7, frameon=False
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = path.suffix.lstrip(".").lower()
    fig.savefig(path, format=kind, bbox_inches="tight", metadata={"Date": None} if kind == "svg" else None)
    plt.close(fig)
