"""The Ingest view's HTML: server-rendered summaries, and a little script that pages and searches the problems.

Every value from a report, an XCom or a URL is escaped here; the script builds its rows with ``textContent``.
Links inside the view are relative to a ``<base>`` at the app's mount prefix, so the view works under any prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from airflow_ingest.core.outcomes import OutcomeKind
from airflow_ingest.core.report_view import ReportIndex
from airflow_ingest.plugins.charts import legend, stacked_bars
from airflow_ingest.plugins.runs import RunReport

OUTCOMES = [kind.value for kind in OutcomeKind]
PLATFORM_NAMES = {"darwin": "V7 Darwin", "encord": "Encord", "redbrick": "RedBrick AI"}

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:16px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #d0d7de}
h3{font-size:15px;margin:14px 0 6px}.muted{color:#656d76}table{border-collapse:collapse;margin:4px 0}
td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}td.n{text-align:right}
.chart{width:100%;max-width:900px;display:block}.axis{font-size:11px;fill:#656d76}
.key{margin-right:12px}.key i{display:inline-block;width:10px;height:10px;margin-right:4px}
.problems td{max-width:520px;overflow-wrap:anywhere}.pager{margin:6px 0}input,select,button{font:inherit}
.card{border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;margin:10px 0}
@media (prefers-color-scheme: dark){body{background:#0d1117;color:#e6edf3}td,th,.card{border-color:#30363d}
a{color:#58a6ff}.muted,.axis{color:#8d96a0;fill:#8d96a0}}
"""

SCRIPT = """
for (const box of document.querySelectorAll('[data-problems]')) {
  const api = box.dataset.problems, body = box.querySelector('tbody'), status = box.querySelector('.status');
  const form = box.querySelector('form'), pageNo = box.querySelector('.page');
  let page = 1, pages = 1;
  async function load() {
    const params = new URLSearchParams({group: box.dataset.group, page, size: form.size.value, q: form.q.value,
                                        outcome: form.outcome.value});
    const answer = await fetch(api + '?' + params, {credentials: 'same-origin'});
    if (!answer.ok) { status.textContent = 'could not load the problems: ' + answer.status; return; }
    const data = await answer.json();
    pages = data.pages; body.replaceChildren();
    for (const row of data.rows) {
      const tr = document.createElement('tr');
      for (const value of [row.item, row.outcome + (row.retryable ? ' (retryable)' : ''), row.reason, row.batch]) {
        const td = document.createElement('td'); td.textContent = value; tr.append(td);
      }
      body.append(tr);
    }
    status.textContent = data.total.toLocaleString() + ' matching';
    pageNo.textContent = 'page ' + data.page + ' of ' + data.pages;
    box.dataset.loaded = params.toString();
  }
  form.addEventListener('submit', e => { e.preventDefault(); page = 1; load(); });
  form.outcome.addEventListener('change', () => { page = 1; load(); });
  box.querySelector('.prev').addEventListener('click', () => { if (page > 1) { page--; load(); } });
  box.querySelector('.next').addEventListener('click', () => { if (page < pages) { page++; load(); } });
  load();
}
"""


def document(title: str, body: str, base: str = "") -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<base href="{escape(base.rstrip("/"))}/">'
        f"<style>{STYLE}</style></head><body>{body}<script>{SCRIPT}</script></body></html>"
    )


def counts_table(rows: Sequence[tuple[str, int | str]], test_id: str) -> str:
    cells = "".join(
        f'<tr><th>{escape(label)}</th><td class="n" data-count="{escape(label)}">'
        f"{value if isinstance(value, str) else f'{value:,}'}</td></tr>"
        for label, value in rows
    )
    return f'<table data-testid="{escape(test_id)}">{cells}</table>'


def target_text(target: dict[str, Any]) -> str:
    """The plan's target options that are set (``dataset_slug demo-dataset, storage_slug demo-storage``)."""
    shown = {
        key: value
        for key, value in (target.get("target") or {}).items()
        if value not in (None, "", [], False) and not isinstance(value, dict)
    }
    return ", ".join(f"{key} {value}" for key, value in shown.items()) or "the connection's default"


def report_section(
    dag_id: str,
    run_id: str,
    report: RunReport,
    index: ReportIndex | None,
    target: dict[str, Any],
    retries: list[str],
) -> str:
    group = report.group or "(no group)"
    run_path = f"runs/{quote(dag_id, safe='')}/{quote(run_id, safe='')}"
    platform = str(target.get("platform") or "")
    head = f"<h2>{escape(group)}: {escape(PLATFORM_NAMES.get(platform, platform))}</h2>"
    if index is None:
        state = "the report is not written yet (the run is still going, or a dry run)" if not report.values else ""
        return f'<section class="card" data-group="{escape(report.group)}">{head}<p class="muted">{state}</p></section>'
    values = report.values
    totals = index.totals
    by_outcome = counts_table(
        [
            ("objects listed", int(values.get("objects") or 0)),
            ("skipped", int(values.get("skipped") or 0)),
            ("items", totals["items"]),
            ("batches", int(values.get("batches") or 0)),
            *((kind, totals[kind]) for kind in OUTCOMES),
            ("retryable", totals["retryable"]),
        ],
        f"counts-{report.group}",
    )
    links = "".join(
        f'<li><a href="{escape(url)}" target="_blank" rel="noopener" data-testid="target-link">{escape(name)}: '
        f"{escape(url)}</a></li>"
        for url, name in report.links.items()
    )
    ledger = (
        f"<p>Ledger <b>{escape(str(report.ledger['sync_name']))}</b>: "
        f'<span data-testid="ledger-entries">{int(report.ledger["entries"]):,}</span> objects after this run. '
        f'<a href="dags/{quote(dag_id, safe="")}#{quote(report.group)}">History of this target</a>'
        "</p>"
        if report.ledger
        else f'<p><a href="dags/{quote(dag_id, safe="")}#{quote(report.group)}">'
        "History of this group's runs</a> (this run keeps no ledger)</p>"
    )
    by_target = (
        '<table data-testid="by-target"><tr><th>platform</th><th>target</th>'
        + "".join(f"<th>{kind}</th>" for kind in OUTCOMES)
        + f"</tr><tr><td>{escape(str(target.get('platform') or ''))}</td><td>{escape(target_text(target))}</td>"
        + "".join(f'<td class="n">{totals[kind]:,}</td>' for kind in OUTCOMES)
        + "</tr></table>"
    )
    retry_list = (
        "<ul data-testid='retry-manifests'>"
        + "".join(
            f'<li><a href="{run_path}/retry/{quote(report.group or "_", safe="")}/{quote(name)}">'
            f"{escape(name)}</a></li>"
            for name in retries
        )
        + "</ul>"
        if retries
        else '<p class="muted">No retry manifests: no item failed in a way a retry may fix.</p>'
    )
    api = f"api/{run_path}/problems"
    problems = f"""
<div class="problems" data-problems="{escape(api)}" data-group="{escape(report.group)}"
 data-testid="problems-{escape(report.group)}">
<form><input name="q" type="search" placeholder="search item, reason or object" aria-label="Search problems">
<select name="outcome" aria-label="Outcome"><option value="">failed and blocked</option>
<option value="failed">failed</option><option value="blocked">blocked</option></select>
<select name="size" aria-label="Rows per page"><option>25</option><option selected>50</option>
<option>200</option></select>
<button type="submit">Search</button> <span class="status muted"></span></form>
<table><thead><tr><th>item</th><th>outcome</th><th>reason</th><th>batch</th></tr></thead><tbody></tbody></table>
<div class="pager"><button type="button" class="prev">Previous</button> <span class="page"></span>
<button type="button" class="next">Next</button></div></div>"""
    return f"""<section class="card" data-group="{escape(report.group)}">{head}
<p class="muted">Report: {escape(report.report_csv or "")}</p>
<h3>Counts by outcome</h3>{by_outcome}
<h3>Counts by platform target</h3>{by_target}<ul>{links}</ul>{ledger}
<h3>Outcomes per batch</h3><div>{legend(OUTCOMES)}</div>{
        stacked_bars(index.chart(), label="batches", test_id=f"batch-chart-{report.group}")
    }
<h3>Failed and blocked items</h3>{problems}
<h3>Retry manifests</h3>{retry_list}</section>"""


def run_page(dag_id: str, run_id: str, sections: list[str], base: str) -> str:
    body = f'<h1>Ingest: {escape(dag_id)}</h1><p class="muted">run {escape(run_id)}</p>' + (
        "".join(sections)
        or '<p class="muted">No ingest ran in this run yet: no task group listed or reported anything.</p>'
    )
    return document(f"Ingest {dag_id} {run_id}", body, base)


def ledger_size(ledger: dict[str, Any] | None) -> str:
    return f"{int(ledger['entries']):,}" if ledger else ""


def history_section(dag_id: str, group: str, history: list[dict[str, Any]]) -> str:
    bars = [
        {
            "run": item["run_id"],
            "registered": item["totals"].get("registered", 0),
            "duplicate": item["totals"].get("duplicate", 0),
            "blocked": item["totals"].get("blocked", 0),
            "failed": item["totals"].get("failed", 0),
        }
        for item in history
    ]
    ledger_bars = [{"run": item["run_id"], "ledger": (item["ledger"] or {}).get("entries", 0)} for item in history]
    rows = "".join(
        f'<tr><td><a href="runs/{quote(dag_id, safe="")}/{quote(item["run_id"], safe="")}">'
        f"{escape(item['run_id'])}</a></td><td>{escape(str(item['state']))}</td>"
        + "".join(f'<td class="n">{int(item["totals"].get(kind, 0)):,}</td>' for kind in OUTCOMES)
        + f'<td class="n">{ledger_size(item["ledger"])}</td></tr>'
        for item in reversed(history)
    )
    sync = next((item["ledger"]["sync_name"] for item in reversed(history) if item["ledger"]), None)
    ledger_chart = (
        "<h3>Ledger size (objects) after each run</h3>"
        + stacked_bars(ledger_bars, label="run", series=("ledger",), test_id="ledger-chart", height=120)
        if sync
        else ""
    )
    return f"""<section class="card" id="{escape(group)}" data-group="{escape(group)}"><h2>{
        escape(group or "(no group)")
    }</h2>
<p class="muted">{"ledger " + escape(str(sync)) if sync else "no ledger recorded"}; the last {len(history)} runs
that reported, oldest first</p>
<h3>Outcomes per run</h3><div>{legend(OUTCOMES)}</div>{stacked_bars(bars, label="run", test_id="history-chart")}
{ledger_chart}
<table data-testid="history"><tr><th>run</th><th>state</th>{"".join(f"<th>{k}</th>" for k in OUTCOMES)}
<th>ledger</th></tr>{rows}</table></section>"""


def history_page(dag_id: str, sections: list[str], base: str) -> str:
    body = f"<h1>Ingest history: {escape(dag_id)}</h1>" + (
        "".join(sections) or '<p class="muted">No run of this DAG has written an ingest report yet.</p>'
    )
    return document(f"Ingest history {dag_id}", body, base)


def index_page(runs: list[dict[str, Any]], base: str) -> str:
    rows = "".join(
        f'<tr><td>{escape(run["dag_id"])}</td><td><a href="runs/{quote(run["dag_id"], safe="")}/'
        f'{quote(run["run_id"], safe="")}">{escape(run["run_id"])}</a></td><td>{escape(run["group"] or "")}</td>'
        + "".join(f'<td class="n">{int(run["totals"].get(kind, 0)):,}</td>' for kind in OUTCOMES)
        + "</tr>"
        for run in runs
    )
    body = (
        "<h1>Ingest: recent runs</h1><p class='muted'>Open a run for its counts, chart, problems and retry "
        "manifests (also from a DAG run's <i>Ingest</i> tab, or the <i>Ingest report</i> link of a report or "
        "register task).</p>"
        f"<table data-testid='recent'><tr><th>DAG</th><th>run</th><th>group</th>"
        f"{''.join(f'<th>{k}</th>' for k in OUTCOMES)}</tr>{rows}</table>"
    )
    return document("Ingest", body, base)
