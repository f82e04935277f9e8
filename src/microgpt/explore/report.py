"""`microgpt report`: the explorer's page as one self-contained HTML file.

A teacher can hand a class one file that shows a trained model: its card and
loss curves, a few strings read with their surprise, attention and the forward
pass, a sample drawn step by step, the embeddings, and the backprop example.
The file is the explorer's own page (static/) with its stylesheet and script
inlined, and every answer the page would ask the server for computed now, by
the same views, and embedded as JSON. The script finds them there instead of
fetching (api.js: `api`). Nothing in the file refers to anything outside it:
no URL of any kind, and a Content-Security-Policy that forbids loading
anything, so it opens offline, from a disk, a mail or a course site alike.

The page's script is a set of ES modules, and a file opened from disk may not
fetch them, so `script` joins them into one inline module: each after the
modules it imports, its import lines dropped and `export` struck. The joined
script means what the modules mean because each module imports names as they
are exported (no renaming) and no two modules declare the same top-level name;
tests/test_explore_modules.py holds both.
"""

import json
import re
from importlib import resources

from microgpt.errors import UsageError
from microgpt.explore import views
from microgpt.sample import SEED, TEMPERATURE

NAME_STRINGS = ("emma", "olivia", "zoe")  # read in a names model's report, where its vocabulary has them
TEXT_CHARS = 24  # characters of each string read in a text model's report
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
MARK = b'<meta name="generator" content="microgpt report">'  # how an earlier report is recognised
ENTRY = re.compile(r'<script type="module" src="/([\w-]+\.js)"></script>\n?')  # index.html's, loading the page's script
IMPORT = re.compile(r'^import \{([^}]*)\} from "\./([\w-]+\.js)";\n', re.M)
EXPORT = re.compile(r"^export (?=(?:async function|function|const|let|class) )", re.M)


def key(path, **params):
    """The name an answer is stored under: the API path and its non-empty
    parameters, sorted, as JSON, exactly as static/api.js builds it (`answerKey`)."""
    shown = [[k, v] for k, v in sorted(params.items()) if v is not None and v != ""]
    return json.dumps([path, shown], ensure_ascii=False, separators=(",", ":"))


def default_strings(ex):
    """A few strings the model can read: names it has the letters for, or
    stretches of its own samples for a text model."""
    m = ex.model
    fits = lambda s: m.tokenizer.covers(s) and len(m.tokenizer.encode(s)) + 1 <= m.config.block_size  # noqa: E731
    if not m.is_text:
        chosen = [s for s in NAME_STRINGS if fits(s)]
        samples = [s["text"] for s in views.card(ex, []).get("samples", [])]
        chosen += [s for s in samples if s and fits(s) and s not in chosen][: 4 - len(chosen)]
        return chosen
    passages = [s["text"].replace("\n", " ").strip() for s in views.card(ex, []).get("samples", [])]
    chosen = []
    for p in passages:
        piece = p[:min(TEXT_CHARS, m.config.block_size)]
        if len(piece) >= 2 and piece not in chosen:
            chosen.append(piece)
        if len(chosen) == 3:
            break
    return chosen


def answers(explored, runs, strings=None):
    """Every answer the page asks for, computed by the explorer's views."""
    out = {key("models"): {"models": [views.summary(ex) for ex in explored]},
           key("backprop", a="2", b="3"): views.backprop(2.0, 3.0)}
    for ex in explored:
        out[key("card", model=ex.id)] = views.card(ex, runs)
        out[key("embeddings", model=ex.id)] = views.embeddings(ex)
        out[key("sample", model=ex.id, seed=str(SEED), temperature=str(TEMPERATURE))] = \
            views.sample_steps(ex, SEED, TEMPERATURE, None, "")
        read = strings if strings is not None else default_strings(ex)
        if not read:
            raise UsageError(f"no string to read with {ex.path.name}: give some with --text")
        for text in read:
            score = views.score(ex, text)  # (a bad string raises its one-line UsageError here)
            out[key("score", model=ex.id, text=text)] = score
            out[key("trace", model=ex.id, text=text)] = views.trace(ex, text)
            for pos in range(len(score["rows"])):
                out[key("next", model=ex.id, text=text, pos=str(pos), temperature="1")] = \
                    views.next_distribution(ex, text, pos, 1.0, None)
        out.setdefault("strings", {})[ex.id] = read
    return out


def _static(name):
    return (resources.files("microgpt.explore") / "static" / name).read_text(encoding="utf-8")


def _inline(text):
    """Text safe inside a <script> or <style> element: no closing tag can end it early."""
    return text.replace("</", "<\\/")


def _inline_json(text):
    """JSON text safe inside a <script> element whatever its strings hold: every "<" written
    as \\u003c (the same string to JSON), so neither "</script" nor "<!--<script" can reach the
    HTML parser, which would end the element early or hide the rest of the page."""
    return text.replace("<", "\\u003c")


def imports(text):
    """The modules a module imports from, and the names it takes from each: [(file, [names])]."""
    return [(file, [n.strip() for n in names.split(",") if n.strip()]) for names, file in IMPORT.findall(text)]


def script(entry):
    """The page's modules, from `entry` down, as the text of one module."""
    done, parts = [], []

    def add(name, path):
        if name in path:
            raise ValueError(f"static/{name} imports itself through {' -> '.join(path)}: the modules cannot be joined")
        if name in done:
            return
        text = _static(name)
        for file, _ in imports(text):
            add(file, path + (name,))
        body = EXPORT.sub("", IMPORT.sub("", text))
        left = re.search(r"^(import|export)\b.*", body, re.M)
        if left:
            raise ValueError(f"static/{name}: {left.group(0)!r} is a form of import or export the report cannot join")
        done.append(name)
        parts.append(f"// ---- {name}\n{body}")

    add(entry, ())
    return "\n".join(parts)


def build(explored, runs, strings=None):
    """The report, as one HTML string."""
    data = json.dumps(answers(explored, runs, strings), allow_nan=False, separators=(",", ":"))
    page = _static("index.html")
    style = f"<style>\n{_inline(_static('explore.css'))}</style>"
    page = page.replace('<link rel="stylesheet" href="/explore.css">', style)
    entry = ENTRY.search(page)
    page = page.replace(entry.group(0), "")
    page = page.replace("<head>", f'<head>\n<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
                        f"{MARK.decode()}", 1)
    page = page.replace("<body>", '<body class="report">', 1)
    page = page.replace("<title>microgpt explore</title>",
                        f"<title>microgpt report: {', '.join(ex.path.name for ex in explored)}</title>", 1)
    tail = (f'<script type="application/json" id="bundle">{_inline_json(data)}</script>\n'
            f'<script type="module">\n{_inline(script(entry.group(1)))}</script>\n</body>')
    return page.replace("</body>", tail, 1)
