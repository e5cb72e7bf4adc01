"""Property-based fuzzing of the public endpoints: whatever a client sends, DGKB never answers 5xx,
and every 4xx is application/problem+json.

One stack (simulators + DGKB on a real socket + a real database) serves all examples. Hypothesis
runs in a worker thread with a synchronous HTTP client, so the event loop that serves DGKB stays
free and Hypothesis keeps its shrinking: a failure reports the smallest input that causes it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.api.conftest import GEMEENTE, Stack, open_contact

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

ALGEMEEN = GEMEENTE + "kcc-algemene-vraag"
# Examples per property (11 properties, each on both database backends). The default keeps the run
# to about ten seconds per backend; set DGKB_FUZZ_EXAMPLES=2000 for a deeper hunt.
EXAMPLES = int(os.environ.get("DGKB_FUZZ_EXAMPLES", "100"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# --- strategies ---------------------------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=50)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=15), inner, max_size=5),
    max_leaves=20,
)
HUGE_TEXT = st.builds(lambda ch, n: ch * n, st.characters(), st.sampled_from([1_000, 20_000, 70_000]))
TRICKY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "../",
        "../../etc/passwd",
        "%00",
        "%2e%2e%2f",
        "' OR 1=1 --",
        "\ud7ff",
        "\u202e",
        "𝟗𝟗𝟗",
        "null",
        "true",
        "{}",
        "[]",
        "-1",
        "1e309",
        "9" * 400,
    ]
)
ANY_TEXT = st.text(max_size=60) | TRICKY_TEXT | HUGE_TEXT
ANYTHING = JSON | TRICKY_TEXT | HUGE_TEXT


def valid_or(values: list[str]) -> st.SearchStrategy[Any]:
    """Mostly valid values (so requests get past the first check), otherwise anything at all."""
    return st.sampled_from(values) | ANYTHING


BSN = st.one_of(
    st.sampled_from(
        [
            "999993653",
            "999990019",
            "123456789",
            "٩٩٩٩٩٣٦٥٣",  # Arabic-Indic digits
            "۹۹۹۹۹۳۶۵۳",  # Extended Arabic-Indic digits
            "９９９９９３６５３",  # fullwidth digits
            "𝟗𝟗𝟗𝟗𝟗𝟑𝟔𝟓𝟑",  # mathematical bold digits
            "12345678²",
            "99999365³",
            "①②③④⑤⑥⑦⑧⑨",
            " 999993653",
            "999993653\n",
            "99999 3653",
            "+99999365",
            "-99999365",
            "000000000",
            "0" * 9,
        ]
    ),
    st.text(alphabet=st.characters(categories=["Nd", "No", "Nl"]), min_size=8, max_size=10),
    st.text(alphabet="0123456789", max_size=12),
    ANYTHING,
)
KANAAL = valid_or(
    ["telefoon", "balie", "e-mail", "chat", "brief", "webformulier", "social-media", "backoffice"]
)
ZEKERHEID = valid_or(["geen", "controlevragen", "digid-midden", "digid-hoog", "eherkenning-eh3"])
PURPOSE = valid_or(
    [ALGEMEEN, GEMEENTE + "kcc-identificatie", GEMEENTE + "wmo-aanvraag", "https://x.nl/onbekend"]
)
CATEGORIE = valid_or(["klant.basis", "klant.contactgegevens", "dienst.zaken-lopend", "feedback.klachten"])
DATETIME_TEXT = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),  # no time zone
    st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999Z",
            "2026-02-30T00:00:00Z",
            "2026-11-01",
            "now",
            "1e10",
        ]
    ),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)


def cursor(moment: Any, row_id: Any) -> str:
    """A cursor in the shape audit.query encodes them, with any content."""
    return base64.urlsafe_b64encode(json.dumps([moment, row_id]).encode()).decode().rstrip("=")


CURSOR = st.one_of(
    st.text(max_size=80),
    st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")),
    st.builds(cursor, DATETIME_TEXT, JSON_SCALARS | st.integers(min_value=2**62, max_value=2**80)),
    ANYTHING,
)
# Path segments up to a few kB: longer request lines are refused by uvicorn's HTTP parser (h11,
# 16 kB) before DGKB sees them, with a plain-text 400 that is not ours to shape.
LONG_SEGMENT = st.builds(
    lambda ch, n: ch * n, st.characters(blacklist_categories=("Cs",)), st.sampled_from([300, 1_000])
)
PATH_SEGMENT = st.one_of(
    st.builds(
        quote, st.text(max_size=60) | TRICKY_TEXT | LONG_SEGMENT, safe=st.sampled_from(["", "/", "/%.", "%"])
    ),
    st.uuids().map(str),
)


def optional_fields(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """An object with any subset of the fields (plus, sometimes, unknown ones) — or anything else."""
    objects = st.fixed_dictionaries({}, optional=fields)
    with_extra = st.tuples(objects, st.dictionaries(st.text(max_size=10), JSON, max_size=2)).map(
        lambda t: {**t[1], **t[0]}
    )
    return st.one_of(objects, objects, with_extra, JSON)


def authzen_evaluation() -> st.SearchStrategy[Any]:
    subject = optional_fields(
        {
            "type": valid_or(["user", "system"]),
            "id": ANY_TEXT,
            "properties": optional_fields(
                {"role": valid_or(["kcm", "privacy", "beheerder"]), "organisation": ANY_TEXT}
            ),
        }
    )
    resource = optional_fields({"type": valid_or(["category"]), "id": CATEGORIE, "properties": JSON})
    action = optional_fields({"name": valid_or(["read"]), "properties": JSON})
    context = optional_fields(
        {
            "purpose": PURPOSE,
            "assurance": ZEKERHEID,
            "subjectKind": valid_or(["bsn", "kvk", "vestiging"]),
            "shielded": JSON_SCALARS,
            "consent": st.lists(CATEGORIE, max_size=4) | ANYTHING,
        }
    )
    return optional_fields({"subject": subject, "resource": resource, "action": action, "context": context})


EVALUATION = authzen_evaluation()
EVALUATIONS = optional_fields(
    {
        "evaluations": st.lists(EVALUATION, max_size=4) | ANYTHING,
        "options": optional_fields({"evaluations_semantic": valid_or(["execute_all", "deny_on_first_deny"])}),
        "subject": EVALUATION,
        "context": EVALUATION,
    }
)
CONTENT_TYPE = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-16",
        "application/problem+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "",
    ]
)

# --- the check ----------------------------------------------------------------------------------


def check(resp: httpx.Response) -> None:
    where = f"{resp.request.method} {resp.request.url.raw_path.decode(errors='replace')[:200]}"
    assert resp.status_code < 500, f"{where} -> {resp.status_code}: {resp.text[:500]}"
    if resp.status_code >= 400:
        content_type = resp.headers.get("content-type", "")
        assert content_type.startswith("application/problem+json"), f"{where} -> {content_type}"
        assert resp.json()["status"] == resp.status_code, where
    assert resp.headers.get("api-version"), where


def send_json(client: httpx.Client, method: str, url: str, body: Any) -> None:
    """Serialise ourselves: non-ASCII, deep nesting and huge numbers go out exactly as generated."""
    content = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")  # lone surrogates too
    check(client.request(method, url, content=content, headers={"content-type": "application/json"}))


@dataclass
class Targets:
    api: str
    anna: str  # tokens
    petra: str
    identified_contact: str


def properties(t: Targets) -> dict[str, Callable[[], None]]:
    anna = httpx.Client(base_url=t.api, headers={"Authorization": f"Bearer {t.anna}"}, timeout=30)
    petra = httpx.Client(base_url=t.api, headers={"Authorization": f"Bearer {t.petra}"}, timeout=30)
    anonymous = httpx.Client(base_url=t.api, timeout=30)
    contact = t.identified_contact
    started = anna.post("/api/v1/contacten", json={"kanaal": "telefoon", "verwerkingsactiviteit": ALGEMEEN})
    unidentified = str(started.json()["id"])  # identification is fuzzed on a contact of its own

    @FUZZ
    @given(optional_fields({"kanaal": KANAAL, "verwerkingsactiviteit": PURPOSE, "reden": ANY_TEXT}))
    def start_contact(body: Any) -> None:
        send_json(anna, "POST", "/api/v1/contacten", body)

    @FUZZ
    @given(optional_fields({"bsn": BSN, "kvkNummer": BSN, "vestigingsnummer": BSN, "zekerheid": ZEKERHEID}))
    def identify(body: Any) -> None:
        send_json(anna, "POST", f"/api/v1/contacten/{unidentified}/identificatie", body)

    @FUZZ
    @given(optional_fields({"verwerkingsactiviteit": PURPOSE}))
    def set_purpose(body: Any) -> None:
        send_json(anna, "PUT", f"/api/v1/contacten/{contact}/verwerkingsactiviteit", body)

    @FUZZ
    @given(
        optional_fields(
            {"contactId": valid_or([contact]), "bsn": BSN, "kvkNummer": BSN, "verwerkingsactiviteit": PURPOSE}
        )
    )
    def klantbeelden(body: Any) -> None:
        send_json(anna, "POST", "/api/v1/klantbeelden", body)

    @FUZZ
    @given(
        optional_fields(
            {
                "contactId": valid_or([contact]),
                "categorieen": st.lists(CATEGORIE, max_size=25) | ANYTHING,
                "verlooptOp": DATETIME_TEXT | ANYTHING,
            }
        )
    )
    @example(
        {"contactId": contact, "categorieen": ["klant.basis"], "verlooptOp": "9999-12-31T23:59:59-14:00"}
    )
    def toestemmingen(body: Any) -> None:
        send_json(anna, "POST", "/api/v1/toestemmingen", body)

    @FUZZ
    @given(
        optional_fields(
            {
                "bsn": BSN,
                "kvkNummer": BSN,
                "medewerker": ANY_TEXT,
                "verwerkingsactiviteit": PURPOSE,
                "vanaf": DATETIME_TEXT,
                "tot": DATETIME_TEXT,
                "limiet": st.integers(min_value=-10, max_value=600) | ANYTHING,
                "cursor": CURSOR,
            }
        )
    )
    # Found by this test (500 before the fix): moments that do not exist in UTC, cursors whose row
    # id does not fit the database integer or is a boolean.
    @example({"vanaf": "0001-01-01T00:00:00+14:00"})
    @example({"tot": "9999-12-31T23:59:59-14:00"})
    @example({"cursor": cursor("0001-01-01T00:00:00+14:00", 5)})
    @example({"cursor": cursor("2026-01-01T00:00:00+00:00", 2**70)})
    @example({"cursor": cursor("2026-01-01T00:00:00+00:00", -(2**70))})
    @example({"cursor": cursor("2026-01-01T00:00:00+00:00", True)})
    def toegangslog(body: Any) -> None:
        send_json(petra, "POST", "/api/v1/toegangslog/zoekopdrachten", body)

    @FUZZ
    @given(EVALUATION)
    def authzen_evaluation(body: Any) -> None:
        send_json(anna, "POST", "/access/v1/evaluation", body)

    @FUZZ
    @given(EVALUATIONS)
    def authzen_evaluations(body: Any) -> None:
        send_json(anna, "POST", "/access/v1/evaluations", body)

    @FUZZ
    @given(
        PATH_SEGMENT,
        st.sampled_from(
            [
                ("GET", "/api/v1/contacten/{}"),
                ("GET", "/api/v1/contacten/{}/klantbeeld"),
                ("GET", "/api/v1/contacten/{}/toestemmingen"),
                ("POST", "/api/v1/contacten/{}/beeindiging"),
                ("POST", "/api/v1/contacten/{}/identificatie"),
                ("POST", "/api/v1/contacten/{}/controlevragen"),
                ("PUT", "/api/v1/contacten/{}/verwerkingsactiviteit"),
                ("POST", "/api/v1/toestemmingen/{}/intrekking"),
            ]
        ),
    )
    def path_params(segment: str, route: tuple[str, str]) -> None:
        method, template = route
        body = {"bsn": "999993653", "zekerheid": "controlevragen", "verwerkingsactiviteit": ALGEMEEN}
        if "intrekking" in template:
            body = {"contactId": contact}
        send_json(anna, method, template.format(segment), body)

    @FUZZ
    @given(
        st.binary(max_size=300) | HUGE_TEXT.map(lambda s: s.encode("utf-8", "surrogatepass")),
        CONTENT_TYPE,
        st.sampled_from(
            [
                "/api/v1/contacten",
                f"/api/v1/contacten/{unidentified}/identificatie",
                "/api/v1/klantbeelden",
                "/api/v1/toestemmingen",
                "/access/v1/evaluation",
                "/access/v1/evaluations",
                "/dev-issuer/token",
            ]
        ),
        st.sampled_from(["anna", "anonymous"]),
    )
    def raw_bodies(body: bytes, content_type: str, url: str, who: str) -> None:
        client = anna if who == "anna" else anonymous
        headers = {"content-type": content_type} if content_type else {}
        check(client.post(url, content=body, headers=headers))

    @FUZZ
    @given(
        st.sampled_from(["", "Bearer", "Basic abc", "bearer x.y.z", "Bearer a.b", "Bearer a.b.c.d"])
        | st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200).map(
            lambda s: ("Bearer " + s).strip()  # h11 refuses to send surrounding whitespace
        )
        | st.binary(min_size=1, max_size=300).map(
            lambda b: "Bearer " + base64.urlsafe_b64encode(b).decode() + "." + base64.b64encode(b).decode()
        ),
        st.sampled_from(["/api/v1/verwerkingsactiviteiten", "/api/v1/categorieen", "/api/v1/contacten/x"]),
    )
    def bad_tokens(authorization: str, url: str) -> None:
        check(anonymous.get(url, headers={"Authorization": authorization}))

    return {
        f.__name__: f
        for f in (
            start_contact,
            identify,
            set_purpose,
            klantbeelden,
            toestemmingen,
            toegangslog,
            authzen_evaluation,
            authzen_evaluations,
            path_params,
            raw_bodies,
            bad_tokens,
        )
    }


def run_all(t: Targets) -> list[str]:
    failures = []
    for name, prop in properties(t).items():
        try:
            prop()
        except Exception as exc:  # report every endpoint's smallest failing input, not just the first
            failures.append(f"--- {name}\n" + "".join(traceback.format_exception_only(exc)))
    return failures


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
async def test_public_endpoints_never_answer_5xx(stack: Stack) -> None:
    anna_token = await stack.token("kcm-anna")
    async with await stack.as_user("kcm-anna") as anna:
        identified = await open_contact(anna, ALGEMEEN)
    targets = Targets(
        api=stack.api,
        anna=anna_token,
        petra=await stack.token("privacy-petra"),
        identified_contact=identified,
    )
    failures = await asyncio.to_thread(run_all, targets)
    assert not failures, "\n".join(failures)
