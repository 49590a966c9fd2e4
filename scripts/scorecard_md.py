#!/usr/bin/env python3
"""scorecard_md.py CARD.json: the scorecard as markdown, for docs/results.md.

  scripts/scorecard_md.py out/scorecard/scorecard.json > /tmp/card.md
  scripts/scorecard_md.py bench/results/scorecard-standard.json --into docs/results.md
  scripts/scorecard_md.py bench/results/scorecard-standard.json --check docs/results.md

--into replaces the part of the page between the two marker lines (BEGIN, END below) with the
card's tables; --check exits 1, saying so, when that part is not what the card gives (a test
runs it, so the page cannot drift from the committed json).

Prints the command, machine, date and commit, then per stream and load one table (mean
accuracy, paired difference against immediate and immediate-bn with its 95% interval, ratios
of modeled seconds and energy, Pareto front) and the target checks with their margins.
Python 3 standard library only.
"""
import json
import sys


def num(x, fmt="{:.2f}"):
    return "-" if x is None else fmt.format(x)


def interval(d):
    if d is None:
        return "-"
    hw = d["ci95_half_width"]
    return f"{d['mean']:+.2f}" + ("" if hw is None else f" ± {hw:.2f}")


def header(card):
    m = card["machine"]
    commits = sorted({c for s in card["streams"].values() for e in s["loads"].values()
                      for c in e.get("etuner_commits", [])})
    return [f"Command: `{card['command']}`", "",
            f"Machine: {m['cpu']}, {m['nproc']} CPUs (`{m['uname']}`). Date: {card['date']}. "
            f"Scorecard commit: `{card['git_commit']}`; etuner commits in the cells: "
            f"{', '.join(f'`{c}`' for c in commits) or '-'}.", "",
            f"Δ: paired difference in points over the same seeds, mean ± 95% t half-width. "
            f"Ratios: {card['ratios']}. Front: on the Pareto front of (accuracy, modeled "
            f"energy).", ""]


def policy_table(entry):
    front = entry.get("pareto_front", [])
    rows = ["| policy | accuracy | Δ vs immediate | Δ vs immediate-bn | s × imm-bn | J × imm-bn "
            "| s × imm | J × imm | front |", "|---|---|---|---|---|---|---|---|---|"]
    for p, c in entry["policies"].items():
        rows.append(
            f"| {p} | {c['accuracy_pct']['mean']:.2f}% | {interval(c.get('delta_pp_vs_immediate'))}"
            f" | {interval(c.get('delta_pp_vs_immediate-bn'))}"
            f" | {num(c.get('modeled_seconds_x_immediate-bn'), '{:.2f}x')}"
            f" | {num(c.get('modeled_energy_j_x_immediate-bn'), '{:.2f}x')}"
            f" | {num(c.get('modeled_seconds_x_immediate'), '{:.2f}x')}"
            f" | {num(c.get('modeled_energy_j_x_immediate'), '{:.2f}x')}"
            f" | {'yes' if p in front else ''} |")
    return rows


def check_value(c):
    v = c["value"]
    if isinstance(v, list):
        return "none" if not v else "; ".join(
            f"{b['policy']} {b['delta_pp']:+.2f} ± {b['ci95_half_width']:.2f} pt" for b in v)
    return num(v)


def checks_table(entry):
    t = entry.get("targets")
    if not t:
        return []
    rows = ["", f"Targets for `{t['policy']}`:", "",
            "| check | target | value | margin | result |", "|---|---|---|---|---|"]
    for c in t["checks"]:
        result = {True: "pass", False: "**miss**", None: "-"}[c["pass"]]
        rows.append(f"| {c['name']} | {c['target']} | {check_value(c)} | "
                    f"{num(c['margin'], '{:+.2f}')} | {result} |")
    return rows


def summary(card):
    """One line per stream and load: does the target policy meet every target?"""
    rows = ["| stream | load | seeds | all targets | missed (margin) |", "|---|---|---|---|---|"]
    for name, s in card["streams"].items():
        for load, e in s["loads"].items():
            t = e.get("targets")
            if not t:
                continue
            missed = "; ".join(f"{c['name']} ({num(c['margin'], '{:+.2f}')})"
                               for c in t["checks"] if c["pass"] is False)
            rows.append(f"| {name} | {load} | {len(e['seeds'])} | "
                        f"{'yes' if t['pass'] else 'no'} | {missed or '-'} |")
    return rows


def markdown(card):
    lines = header(card) + summary(card)
    for name, s in card["streams"].items():
        if "skipped" in s:
            lines += ["", f"#### `{name}`: skipped ({s['skipped']})"]
            continue
        for load, e in s["loads"].items():
            seeds = ", ".join(str(x) for x in e["seeds"]) or "none done"
            lines += ["", f"#### `{name}`, {load} load (seeds {seeds})", ""]
            if "carried_from" in e:
                c = e["carried_from"]
                lines += [f"Carried over from the card of {c['date']} (scorecard commit "
                          f"`{c['git_commit']}`); not rerun since.", ""]
            if "rehydrated_from" in e:
                c = e["rehydrated_from"]
                rerun = ", ".join(f"`{p}`" for p in c["rerun"]) or "none"
                lines += [f"{c['seeds']} of these seeds rebuilt from the card of {c['date']} "
                          f"(scorecard commit `{c['git_commit']}`); rerun since: {rerun}.", ""]
            for policy, settings in e.get("tuned", {}).items():
                own = json.dumps(settings, sort_keys=True)
                lines += [f"`{policy}` runs with its own settings at this load, the best of its "
                          f"grid on the tuning timelines: `{own}`.", ""]
            if "policies" in e:
                lines += policy_table(e) + checks_table(e)
    return "\n".join(lines) + "\n"


BEGIN = "<!-- scorecard: generated by scripts/scorecard_md.py from {card}; do not edit -->"
BEGIN_PREFIX = "<!-- scorecard:"  # what marks the start, whichever card it names
END = "<!-- end of the generated scorecard -->"


def splice(page, card_path, tables):
    """page with its generated part replaced by tables (the markers must be there once)."""
    begin = BEGIN.format(card=card_path)
    lines = page.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith(BEGIN_PREFIX)]
    ends = [i for i, line in enumerate(lines) if line == END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        sys.exit(f"scorecard_md.py: the page needs one line starting '{BEGIN_PREFIX}' "
                 f"and, after it, one line '{END}'")
    return "\n".join(lines[:starts[0]] + [begin, ""] + tables.rstrip("\n").split("\n") +
                      ["", END] + lines[ends[0] + 1:])


def main():
    args = sys.argv[1:]
    if len(args) not in (1, 3) or (len(args) == 3 and args[1] not in ("--into", "--check")):
        sys.exit(__doc__)
    with open(args[0]) as f:
        tables = markdown(json.load(f))
    if len(args) == 1:
        sys.stdout.write(tables)
        return
    with open(args[2]) as f:
        page = f.read()
    fresh = splice(page, args[0], tables)
    if args[1] == "--into":
        with open(args[2], "w") as f:
            f.write(fresh)
    elif fresh != page:
        sys.exit(f"{args[2]}: its scorecard is not the one {args[0]} gives; run\n"
                 f"  scripts/scorecard_md.py {args[0]} --into {args[2]}")


if __name__ == "__main__":
    main()
