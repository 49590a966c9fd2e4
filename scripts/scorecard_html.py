"""scorecard_html.py: scorecard.json as one self-contained HTML page (inline SVG, no scripts).

Per stream and load: accuracy against modeled fine-tuning energy, one point per policy at its
mean over seeds, with a bar of the 95% interval of its paired difference against immediate
drawn around the mean accuracy, and the Pareto front (max accuracy, min energy) joined and
filled; then the table and the target checks. Used by scorecard.py.
"""
import html

W, H, PAD_L, PAD_R, PAD_T, PAD_B = 640, 360, 64, 110, 16, 44


def esc(x):
    return html.escape(str(x))


def num(x, fmt="{:.2f}", none="-"):
    return none if x is None else fmt.format(x)


def interval(d):
    if d is None:
        return "-"
    hw = d["ci95_half_width"]
    return f"{d['mean']:+.2f}" + ("" if hw is None else f" ± {hw:.2f}")


def scale(lo, hi, a, b):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def bounds(values, pad=0.05):
    lo, hi = min(values), max(values)
    extra = (hi - lo) * pad or 1.0
    return lo - extra, hi + extra


def points(entry):
    """(policy, energy, accuracy, interval half-width or 0) for policies with an energy."""
    out = []
    for p, c in entry["policies"].items():
        if c["modeled_energy_j"] is None:
            continue
        d = c.get("delta_pp_vs_immediate") or {}
        out.append((p, c["modeled_energy_j"], c["accuracy_pct"]["mean"],
                    d.get("ci95_half_width") or 0.0))
    return out


def plot(entry):
    pts = points(entry)
    if not pts:
        return "<p>No modeled energy in these results.</p>"
    x = scale(*bounds([e for _, e, _, _ in pts]), PAD_L, W - PAD_R)
    y = scale(*bounds([a - h for _, _, a, h in pts] + [a + h for _, _, a, h in pts]),
              H - PAD_B, PAD_T)
    front = entry.get("pareto_front", [])
    svg = [f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">',
           f'<rect x="{PAD_L}" y="{PAD_T}" width="{W - PAD_L - PAD_R}" '
           f'height="{H - PAD_T - PAD_B}" fill="none" stroke="#999"/>']
    svg += axes(pts, x, y)
    by_name = {p: (x(e), y(a)) for p, e, a, _ in pts}
    line = " ".join(f"{by_name[p][0]:.1f},{by_name[p][1]:.1f}" for p in front if p in by_name)
    if line:
        svg.append(f'<polyline points="{line}" fill="none" stroke="#c33" stroke-dasharray="4 3"/>')
    placed = []  # label boxes so far: points close together get their labels stacked
    for p, e, a, h in pts:
        cx, cy = x(e), y(a)
        svg.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(a - h):.1f}" y2="{y(a + h):.1f}" '
                   f'stroke="#555"/>')
        on = p in front
        svg.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" stroke="#c33" '
                   f'fill="{"#c33" if on else "white"}"><title>{esc(p)}: {a:.2f}%, '
                   f'{e:.1f} J</title></circle>')
        lx, ly = label_spot(placed, cx + 6, cy - 4, 6.2 * len(p))
        svg.append(f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="11">{esc(p)}</text>')
    svg.append("</svg>")
    return "\n".join(svg)


def label_spot(placed, lx, ly, width, height=12):
    """The first spot at or below (lx, ly) where a label box overlaps none already placed."""
    while any(lx < px + pw and px < lx + width and ly - height < py and py - height < ly
              for px, py, pw in placed):
        ly += height
    placed.append((lx, ly, width))
    return lx, ly


def axes(pts, x, y):
    es = [e for _, e, _, _ in pts]
    accs = [a for _, _, a, _ in pts]
    out = []
    for v in sorted({min(es), max(es), (min(es) + max(es)) / 2}):
        out.append(f'<text x="{x(v):.1f}" y="{H - PAD_B + 16}" font-size="11" '
                   f'text-anchor="middle">{v:.0f}</text>')
    for v in sorted({min(accs), max(accs), (min(accs) + max(accs)) / 2}):
        out.append(f'<text x="{PAD_L - 6}" y="{y(v) + 4:.1f}" font-size="11" '
                   f'text-anchor="end">{v:.1f}</text>')
    out.append(f'<text x="{(PAD_L + W - PAD_R) / 2}" y="{H - 8}" font-size="12" '
               f'text-anchor="middle">modeled fine-tuning energy (J), mean over seeds</text>')
    out.append(f'<text x="14" y="{(PAD_T + H - PAD_B) / 2}" font-size="12" text-anchor="middle" '
               f'transform="rotate(-90 14 {(PAD_T + H - PAD_B) / 2})">accuracy (%)</text>')
    return out


def table(entry):
    rows = ["<table><tr><th>policy</th><th>accuracy</th><th>Δ vs immediate (pp, 95%)</th>"
            "<th>Δ vs immediate-bn (pp, 95%)</th><th>s × imm-bn</th><th>J × imm-bn</th>"
            "<th>s × imm</th><th>J × imm</th><th>front</th></tr>"]
    front = entry.get("pareto_front", [])
    for p, c in entry["policies"].items():
        cells = [esc(p), f"{c['accuracy_pct']['mean']:.2f}%",
                 interval(c.get("delta_pp_vs_immediate")),
                 interval(c.get("delta_pp_vs_immediate-bn")),
                 num(c.get("modeled_seconds_x_immediate-bn"), "{:.2f}x"),
                 num(c.get("modeled_energy_j_x_immediate-bn"), "{:.2f}x"),
                 num(c.get("modeled_seconds_x_immediate"), "{:.2f}x"),
                 num(c.get("modeled_energy_j_x_immediate"), "{:.2f}x"),
                 "●" if p in front else ""]
        rows.append("<tr>" + "".join(f"<td>{x}</td>" for x in cells) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def check_value(c):
    v = c["value"]
    if isinstance(v, list):
        return "none" if not v else "; ".join(
            f"{esc(b['policy'])} {b['delta_pp']:+.2f} ± {b['ci95_half_width']:.2f} pp at "
            f"{b['modeled_energy_j']:.1f} J" for b in v)
    return num(v)


def checks(entry):
    t = entry.get("targets")
    if not t:
        return ""
    rows = [f"<h4>Targets for {esc(t['policy'])}</h4><table><tr><th>check</th><th>target</th>"
            "<th>value</th><th>margin</th><th>result</th></tr>"]
    for c in t["checks"]:
        result = {True: "pass", False: "<b>miss</b>", None: "-"}[c["pass"]]
        rows.append(f"<tr><td>{esc(c['name'])}</td><td>{esc(c['target'])}</td>"
                    f"<td>{check_value(c)}</td><td>{num(c['margin'], '{:+.2f}')}</td>"
                    f"<td>{result}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def section(name, load, entry):
    head = f"<h3>{esc(name)} — {esc(load)} load</h3>"
    if "policies" not in entry:
        return head + "<p>No cells done.</p>"
    seeds = ", ".join(str(s) for s in entry["seeds"])
    tuned = "".join(f"; {esc(p)} with its own settings {esc(v)}"
                    for p, v in entry.get("tuned", {}).items())
    c = entry.get("carried_from")
    origin = f" Carried over from the card of {esc(c['date'])}." if c else ""
    r = entry.get("rehydrated_from")
    if r:
        origin += (f" {r['seeds']} seeds rebuilt from the card of {esc(r['date'])}; rerun since: "
                   f"{esc(', '.join(r['rerun']) or 'none')}.")
    return "\n".join([head, f"<p>Seeds {esc(seeds)}; --set {esc(entry['set'] or '{}')}{tuned}."
                             f"{origin}</p>",
                      plot(entry), table(entry), checks(entry)])


def page(card):
    m = card["machine"]
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>etuner scorecard</title>",
             "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
             "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
             "padding:2px 6px;text-align:right}td:first-child{text-align:left}</style></head><body>",
             f"<h1>etuner scorecard: {esc(card.get('suite_name'))}</h1>",
             f"<p>Command <code>{esc(card['command'])}</code>; {esc(card['date'])}; commit "
             f"{esc(card['git_commit'])}; {esc(m['cpu'])}, {esc(m['nproc'])} CPUs; "
             f"{esc(m['uname'])}.</p>",
             "<p>Points: mean accuracy over seeds against mean modeled fine-tuning energy; bars: "
             "the 95% t interval of the paired difference against immediate, around the mean; "
             "filled points joined by the dashed line: the Pareto front. Ratios: "
             f"{esc(card['ratios'])}.</p>"]
    for name, s in card["streams"].items():
        parts.append(f"<h2>{esc(name)}</h2>")
        if "skipped" in s:
            parts.append(f"<p>Skipped: {esc(s['skipped'])}.</p>")
            continue
        parts += [section(name, load, e) for load, e in s["loads"].items()]
    parts.append("</body></html>")
    return "\n".join(parts)
