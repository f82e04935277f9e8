"""The explorer page's script modules (explore/static/*.js). Each is served as
JavaScript; index.html loads one entry; each imports names another module
exports, under their own names, and uses no other module's name without
importing it; no two declare the same top-level name. Those rules are what let
`microgpt report` join them into one inline module (report.script) that means
what the modules mean, and the joined script is checked here too.
"""

import re
from importlib import resources

import pytest

from microgpt.explore import report
from microgpt.explore.server import Explorer

STATIC = resources.files("microgpt.explore") / "static"
DECLARED = re.compile(r"^(?:export )?(?:async function|function|const|let|class) ([\w$]+)", re.M)
EXPORTED = re.compile(r"^export (?:async function|function|const|let|class) ([\w$]+)", re.M)


def modules():
    return {f.name: f.read_text(encoding="utf-8") for f in sorted(STATIC.iterdir(), key=lambda f: f.name)
            if f.name.endswith(".js")}


def code_words(text):
    """The identifiers a script uses in its code: not in comments or strings (a
    template's ${...} is code), not a property (.name) or an object key (name:)."""
    code, i, templates = [], 0, []  # templates: the brace depth at each open ${
    while i < len(text):
        c, two = text[i], text[i:i + 2]
        if two == "//":
            i = text.find("\n", i)
            i = len(text) if i < 0 else i
            continue
        if two == "/*":
            i = text.index("*/", i) + 2
            continue
        if c in "\"'":
            i += 1
            while text[i] != c:
                i += 2 if text[i] == "\\" else 1
            i += 1
            code.append('""')
            continue
        if c == "`" or (c == "}" and templates and templates[-1] == 0):
            if c == "}":
                templates.pop()
            i += 1
            while text[i] != "`" and text[i:i + 2] != "${":  # the template's text, up to its end or a ${
                i += 2 if text[i] == "\\" else 1
            if text[i] == "`":
                i += 1
            else:
                templates.append(0)
                i += 2
            code.append(" ")
            continue
        if templates and c in "{}":
            templates[-1] += 1 if c == "{" else -1
        code.append(c)
        i += 1
    return set(re.findall(r"(?<![\w$.])([A-Za-z_$][\w$]*)(?!:)", "".join(code)))


def test_the_page_loads_one_entry_module():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script[^>]*>", html) == ['<script type="module" src="/main.js">']


def test_every_module_is_served_as_javascript():
    explorer = Explorer([], [])
    for name, text in modules().items():
        status, kind, body = explorer.answer(f"/{name}")
        assert status == 200 and kind.split(";")[0] == "text/javascript" and body.decode() == text, name
    assert explorer.answer("/explore.css")[1].startswith("text/css")


def test_imports_take_exported_names_as_they_are_and_use_them():
    mods = modules()
    exported = {name: set(EXPORTED.findall(text)) for name, text in mods.items()}
    for name, text in mods.items():
        taken = report.imports(text)
        assert len(taken) == len(re.findall(r"^import\b", text, re.M)), f"{name}: an import report.script cannot read"
        assert len(exported[name]) == len(re.findall(r"^export\b", text, re.M)), f"{name}: an export it cannot read"
        unused = {n for _, names in taken for n in names} - code_words(report.IMPORT.sub("", text))
        assert not unused, f"{name} imports {sorted(unused)} and does not use them"
        for file, names in taken:
            assert file in mods, f"{name} imports {file}, which static/ does not hold"
            for n in names:
                assert re.fullmatch(r"[\w$]+", n) and n in exported[file], f"{name} imports {n!r} from {file}"


def uses_without_import(mods):
    """{module: names it uses that another module declares, though it neither imports nor declares them}."""
    declared = {name: set(DECLARED.findall(text)) for name, text in mods.items()}
    found = {}
    for name, text in mods.items():
        mine = declared[name] | {n for _, names in report.imports(text) for n in names}
        others = set().union(*(d for other, d in declared.items() if other != name))
        missing = (code_words(text) & others) - mine
        if missing:
            found[name] = sorted(missing)
    return found


def test_a_module_imports_every_name_it_takes_from_another():
    assert uses_without_import(modules()) == {}
    # shown to catch one: b.js calls a's helper and mentions it in a comment, a string and a template
    a = "export const $ = (id) => id;\nexport function fits(t) { return t; }\n"
    b = 'import { $ } from "./a.js";\n// fits\nconst s = "fits", t = `fits ${$(1)} ${fits(2)}`;\n'
    assert uses_without_import({"a.js": a, "b.js": b}) == {"b.js": ["fits"]}
    assert uses_without_import({"a.js": a, "b.js": b.replace("${fits(2)}", "")}) == {}


def duplicates(mods):
    seen = {}
    for name, text in mods.items():
        for n in DECLARED.findall(text):
            seen.setdefault(n, []).append(name)
    return {n: names for n, names in seen.items() if len(names) > 1}


def test_no_two_modules_declare_the_same_name():
    assert duplicates(modules()) == {}
    assert duplicates({"a.js": "const fits = 1;\n", "b.js": "export async function fits() {}\n"}) == \
        {"fits": ["a.js", "b.js"]}  # shown to catch one


def test_the_report_joins_every_module_after_those_it_imports():
    mods = modules()
    joined = report.script("main.js")
    assert not re.search(r"^(import|export)\b", joined, re.M)
    assert sorted(DECLARED.findall(joined)) == sorted(n for text in mods.values() for n in DECLARED.findall(text))
    # where each module starts: each opens with its own comment
    first = {name: joined.index(text.split("\n", 1)[0]) for name, text in mods.items()}
    assert len(set(first.values())) == len(mods)
    for name, text in mods.items():
        for file, _ in report.imports(text):
            assert first[file] < first[name], f"{file} must come before {name}, which imports it"


def test_the_report_refuses_modules_it_cannot_join(monkeypatch):
    files = {"main.js": 'import { a } from "./a.js";\n',
             "a.js": 'import { b } from "./main.js";\nexport const a = 1;\n'}
    monkeypatch.setattr(report, "_static", files.__getitem__)
    with pytest.raises(ValueError, match="imports itself through main.js -> a.js"):
        report.script("main.js")
    files.update({"a.js": "export const a = 1;\n", "main.js": 'import * as all from "./a.js";\n'})
    with pytest.raises(ValueError, match="a form of import or export the report cannot join"):
        report.script("main.js")
