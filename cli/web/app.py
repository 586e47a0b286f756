"""The ASGI application of ``eligibility serve``: the JSON API under ``/v1`` and the intake page.

Library calls run one at a time, in a worker thread (the durable-rules engine keeps one session
per rule set, and the rule set's compiled programs are built on first use), so the event loop
stays free to answer the page's files and to refuse a bad request at once. Every response
carries the rules digest and the tool version as headers; every error is JSON naming the field.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any, Literal, TypeVar

import anyio
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

import eligibility
from eligibility.errors import CaseError, Problem, UnknownPolicyError
from eligibility.explain.determination import DecisionRecord, Determination
from eligibility.fast import Evaluator
from eligibility.ruleset.load import RuleSet

from .._shared import printable
from .models import (
    AskRequest,
    AskResponse,
    CountryInfo,
    ErrorBody,
    ErrorItem,
    EvaluateRequest,
    Lang,
    PolicyInfo,
    RuleInfo,
    ServerInfo,
    SourceInfo,
    Summary,
)

STATIC = Path(__file__).parent / "static"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class Limits:
    """What one request may ask: the bytes of its body, and the cases of a batch."""

    max_body: int = 1 << 20
    max_batch: int = 1000


class DecisionLog:
    """A JSON Lines file of decision records, one a line, as ``check --format json`` prints them."""

    def __init__(self, path: str | Path) -> None:
        self._file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 (open for the server's life)
        self._lock = threading.Lock()

    def write(self, record: DecisionRecord) -> None:
        line = record.to_json() + "\n"
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def _error(status: int, problems: list[tuple[str | None, str]]) -> JSONResponse:
    body = ErrorBody(status=status, errors=[ErrorItem(field=f, message=m) for f, m in problems])
    return JSONResponse(body.model_dump(), status_code=status)


def _field(place: str) -> str:
    """A problem's place as a path of the request body: 'case: entry.date' -> 'case.entry.date'."""
    return place.replace(": ", ".", 1)


def _problems(problems: list[Problem]) -> list[tuple[str | None, str]]:
    return [(_field(p.place) if p.place else None, p.message) for p in problems]


class _TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over {limit:,} bytes")


def _host_name(header: bytes) -> str:
    """The name in a Host header, without the port: 'localhost:8000' -> 'localhost', '[::1]:80' -> '::1'."""
    text = header.decode("latin-1").strip().lower()
    if text.startswith("["):
        return text[1:].partition("]")[0]
    return text.rpartition(":")[0] if text.count(":") == 1 else text


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
"""The names a browser on this machine uses for a server bound to loopback."""


class Guard:
    """ASGI middleware: a request naming another host is refused (400) when ``hosts`` is given;
    a body over the limit is refused (413) before or while it is read; every response gets the
    rules digest, the version and safe-content headers; an error no handler took becomes one line
    on standard error and a JSON 500, never a traceback."""

    def __init__(
        self, app: ASGIApp, max_body: int, digest: str, version: str, hosts: frozenset[str] | None
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.hosts = hosts
        self.headers = [
            (b"x-rules-digest", digest.encode()),
            (b"x-eligibility-version", version.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (
                b"content-security-policy",
                b"default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        headers = dict(scope.get("headers") or [])
        if self.hosts is not None and _host_name(headers.get(b"host", b"")) not in self.hosts:
            # a page elsewhere whose name was made to point at this machine (DNS rebinding)
            await self._reply(
                send_with_headers,
                400,
                "the Host header names another server: open this one by its own address",
            )
            return
        length = headers.get(b"content-length")
        try:
            declared = int(length) if length is not None else None
        except ValueError:
            declared = None
            await self._reply(send_with_headers, 400, "the Content-Length header is not a number")
            return
        if declared is not None and declared > self.max_body:
            await self._reply(send_with_headers, 413, f"the request body is over {self.max_body:,} bytes")
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise _TooLarge(self.max_body)
            return message

        try:
            await self.app(scope, counted, send_with_headers)
        except Exception as exc:  # the contract: one line, no traceback
            print(
                printable(
                    f"eligibility serve: internal error: {scope.get('method')} {scope.get('path')}: "
                    f"{type(exc).__name__}: {exc}"
                ),  # the path and the message come from the request: never raw to a terminal
                file=sys.stderr,
                flush=True,
            )
            if not started:
                await self._reply(send_with_headers, 500, f"internal error: {type(exc).__name__}")

    @staticmethod
    async def _reply(send: Send, status: int, message: str) -> None:
        body = json.dumps({"status": status, "errors": [{"field": None, "message": message}]}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _validation_problems(exc: RequestValidationError) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        if err.get("type") == "json_invalid":
            detail = (err.get("ctx") or {}).get("error", "")
            problems.append((None, f"malformed JSON: {detail} (character {loc[0] if loc else '?'})"))
            continue
        problems.append((".".join(loc) or None, str(err.get("msg", "invalid"))))
    return problems


def create_app(
    rules: RuleSet | None = None,
    *,
    log: DecisionLog | None = None,
    limits: Limits | None = None,
    hosts: frozenset[str] | None = LOOPBACK_NAMES,
) -> FastAPI:
    """The server: ``rules`` (default: the shipped rules), an optional decision log, the limits,
    and the host names a request may give (None: any; the default: loopback's names)."""
    from ..main import next_question
    from .intake import question, replay

    ruleset = rules or eligibility.load_rules()
    limits = limits or Limits()
    version = eligibility.__version__
    library: list[anyio.CapacityLimiter] = []  # made on first use, inside the event loop
    evaluators: dict[str, Evaluator] = {}  # for batches: one a policy, language and detail

    async def call(func: Callable[[], T]) -> T:
        """Run a library call in the one worker thread that runs them all."""
        if not library:
            library.append(anyio.CapacityLimiter(1))
        return await anyio.to_thread.run_sync(func, limiter=library[0])

    def check_policy(policy: str | None) -> None:
        if policy is not None:
            ruleset.require_policy(policy)

    app = FastAPI(
        title="eligibility",
        version=version,
        summary="Who is sent to a third country under the U.S. asylum transfer agreements, and why.",
        description=(
            "The JSON API of `eligibility serve`. Every response carries the headers "
            "`X-Rules-Digest` (the rules the answer came from) and `X-Eligibility-Version`. "
            "Errors are JSON: `{status, errors: [{field, message}]}` (422 an invalid case or answer, "
            "404 an unknown policy or rule, 413 a body over the limit)."
        ),
        docs_url=None,  # the interactive docs load scripts from a CDN: the OpenAPI document is enough
        redoc_url=None,
        responses={422: {"model": ErrorBody}, 413: {"model": ErrorBody}},
    )
    app.add_middleware(Guard, max_body=limits.max_body, digest=ruleset.digest, version=version, hosts=hosts)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _validation_problems(exc))

    @app.exception_handler(CaseError)
    async def invalid_case(request: Request, exc: CaseError) -> JSONResponse:
        return _error(422, _problems(exc.problems))

    @app.exception_handler(UnknownPolicyError)
    async def unknown_policy(request: Request, exc: UnknownPolicyError) -> JSONResponse:
        return _error(404, [("policy", str(exc))])

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page or endpoint: {request.url.path}"
        if exc.status_code == 400 and isinstance(exc.__cause__, (RecursionError, ValueError)):
            # JSON that the parser gave up on: nested too deeply, or a number of too many digits
            deep = isinstance(exc.__cause__, RecursionError)
            reason = "nested too deeply" if deep else "a number too long to read"
            return _error(422, [(None, f"malformed JSON: {reason}")])
        response = _error(exc.status_code, [(None, message)])
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    # ---- the API ----

    @app.get("/v1", response_model=ServerInfo, tags=["about"])
    async def info() -> ServerInfo:
        """The tool's version, the rules digest, the default policy and the limits."""
        return ServerInfo(
            version=version,
            rules_digest=ruleset.digest,
            default_policy=ruleset.default_policy,
            languages=["en", "es"],
            max_body_bytes=limits.max_body,
            max_batch_cases=limits.max_batch,
        )

    def json_record(rec: DecisionRecord) -> Response:
        return Response(rec.to_json(), media_type="application/json")

    @app.post("/v1/evaluate", response_model=DecisionRecord, tags=["cases"])
    async def evaluate(body: EvaluateRequest) -> Response:
        """One case: its decision record, exactly as `eligibility check --format json` prints it."""
        check_policy(body.policy)
        data = dict(body.case)
        if body.as_of is not None:
            if data.get("decision_date") not in (None, body.as_of):
                return _error(422, [("as_of", "differs from case.decision_date; give one")])
            data["decision_date"] = body.as_of

        def work() -> DecisionRecord:
            case = eligibility.parse_case(data, source="case")
            det = eligibility.evaluate(case, body.policy, rules=ruleset, engine=body.engine, lang=body.lang)
            rec = eligibility.record(det, case)
            if log is not None:
                log.write(rec)
            return rec

        return json_record(await call(work))

    @app.post("/v1/ask", response_model=AskResponse, tags=["cases"])
    async def ask(body: AskRequest) -> AskResponse:
        """The next question for a partial case (that of `eligibility ask`: the one that can still
        change the answer, most decisive first), or, when none is left, the decision record."""
        check_policy(body.policy)

        def work() -> AskResponse:
            data, answers, asked = replay(body.case, body.answers, body.lang)
            field = None if body.finish else next_question(data, body.policy, ruleset, asked)
            if field is not None:
                return AskResponse(question=question(field, body.lang), asked=len(answers), record=None)
            case = eligibility.parse_case(data, source="case")
            det = eligibility.evaluate(case, body.policy, rules=ruleset, lang=body.lang)
            rec = eligibility.record(det, case, answers)
            if log is not None:
                log.write(rec)
            return AskResponse(question=None, asked=len(answers), record=rec, summary=summarize(rec))

        return await call(work)

    @app.post(
        "/v1/batch",
        tags=["cases"],
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}}, "description": "one line a case"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                "description": "JSON Lines: one case a line (blank lines are skipped)",
            }
        },
    )
    async def batch(
        request: Request,
        policy: Annotated[str | None, Query(description="a policy of GET /v1/policies")] = None,
        lang: Lang = "en",
        detail: Annotated[
            Literal["compact", "full"],
            Query(description="compact leaves out each instrument's per-rule findings (as `batch --detail`)"),
        ] = "compact",
    ) -> Response:
        """Many cases (JSON Lines, at most max_batch_cases): one JSON line a case, in order, as it
        is determined, the line `eligibility batch` writes ({"row": n, ...determination}), or
        {"row": n, "errors": [{field, message}]} for a row that is not a valid case."""
        check_policy(policy)
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _error(422, [(None, f"the body is not UTF-8 (byte {exc.start})")])
        lines_in = text.split("\n")  # not splitlines(): U+2028 may stand inside a JSON string
        rows = [(n, line.rstrip("\r")) for n, line in enumerate(lines_in, start=1) if line.strip()]
        if len(rows) > limits.max_batch:
            return _error(413, [(None, f"{len(rows):,} cases: at most {limits.max_batch:,} a request")])

        def one(number: int, line: str) -> bytes:
            source = f"row {number}"
            try:
                if not line.lstrip().startswith("{"):
                    raise CaseError([Problem(source, "a case must be a JSON object")])
                case = eligibility.parse_case(line, source=source)
                out = _batch_line(case, number)
            except CaseError as exc:
                errors = [
                    {"field": p.place.partition(": ")[2] or None, "message": p.message} for p in exc.problems
                ]
                return json.dumps({"row": number, "errors": errors}, ensure_ascii=False).encode() + b"\n"
            if log is not None:
                det = eligibility.evaluate(
                    case, policy, rules=ruleset, engine="fast", counterfactuals=False, lang=lang
                )
                log.write(eligibility.record(det, case))
            return out + b"\n"

        def _batch_line(case: eligibility.Case, number: int) -> bytes:
            """The line `eligibility batch` writes for the case (fast engine)."""
            if not case.spans:
                key = f"{policy}:{lang}:{detail}"
                if key not in evaluators:
                    evaluators[key] = Evaluator(policy, rules=ruleset, detail=detail, lang=lang)
                return evaluators[key].evaluate(case).to_bytes(number)
            # approximate dates: every day of them is evaluated, as `batch` does
            det = eligibility.evaluate(
                case, policy, rules=ruleset, engine="fast", counterfactuals=False, lang=lang
            )
            data = det.model_dump(mode="json")
            if detail == "compact":
                for inst in data["instruments"]:
                    del inst["findings"]
                del data["would_change_if"]
            return json.dumps({"row": number, **data}, separators=(",", ":")).encode()

        async def lines() -> AsyncIterator[bytes]:
            for number, line in rows:
                yield await call(functools.partial(one, number, line))

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @app.post(
        "/v1/memo",
        tags=["cases"],
        response_class=Response,
        responses={200: {"content": {"text/html": {}, "text/markdown": {}}}},
    )
    async def memo(record: DecisionRecord, format: Literal["html", "md"] = "html") -> Response:
        """The one-page client memo of a decision record (`check --format html|md`), to download."""
        from eligibility.explain.memo import render_memo

        text = await call(lambda: render_memo(record, format))
        name = f"memo-{record.id or record.dates.entry or 'case'}.{format}"
        safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in name)
        return Response(
            text,
            media_type="text/html" if format == "html" else "text/markdown",
            headers={"content-disposition": f'attachment; filename="{safe}"'},
        )

    @app.get("/v1/policies", response_model=list[PolicyInfo], tags=["rules"])
    async def policies(lang: Lang = "en") -> list[PolicyInfo]:
        """Every policy: id, title, description (in ``lang`` where the rule files translate them)."""
        out = []
        for p in ruleset.policies.values():
            words = p.translations.get(lang, {})
            out.append(
                PolicyInfo(
                    id=p.id,
                    title=words.get("title", p.title),
                    description=words.get("description", p.description),
                    instruments=list(p.instruments),
                    default=p.id == ruleset.default_policy,
                )
            )
        return out

    @app.get("/v1/rules", tags=["rules"])
    async def rules_list() -> list[dict[str, Any]]:
        """Every rule: id, instrument, role, title, file:line, evidence levels (`rules list`)."""
        from eligibility.ruleset.rulebook import list_rules

        return list_rules(ruleset)

    @app.get("/v1/rules/{rule_id}", response_model=RuleInfo, tags=["rules"])
    async def rule(rule_id: str) -> RuleInfo:
        """One rule with its condition and sources (`rules show`)."""
        from eligibility.ruleset.rulebook import condition_words

        try:
            found = ruleset.rule(rule_id)
        except KeyError as exc:
            return _error(404, [("rule_id", str(exc.args[0]))])  # type: ignore[return-value]
        used_by = sorted(i.id for i in ruleset.instruments.values() if any(r.id == rule_id for r in i.rules))
        return RuleInfo(
            id=found.id,
            instrument=found.instrument,
            role=found.role,
            title=found.title,
            location=found.location.short,
            overrides=found.overrides,
            when=[line.strip() for line in condition_words(found.when)],
            sources=[
                SourceInfo(
                    cite=s.cite, evidence=s.evidence, url=s.url, quote=s.quote, paraphrase=s.paraphrase
                )
                for s in found.sources
            ],
            note=found.note,
            instruments=used_by,
        )

    @app.get("/v1/countries", response_model=list[CountryInfo], tags=["about"])
    async def countries(lang: Lang = "en") -> list[CountryInfo]:
        """Every ISO 3166-1 country: its alpha-2 code and its name in ``lang`` (for a form's choices)."""
        return _countries(lang)

    schemas: dict[str, type[Determination] | type[eligibility.Case]] = {
        "case": eligibility.Case,
        "determination": Determination,
        "record": DecisionRecord,
    }

    @app.get("/v1/schemas/{name}", tags=["about"])
    async def schema(name: str) -> dict[str, Any]:
        """The JSON Schema of a case (input), a determination or a decision record (output)."""
        if name not in schemas:
            return _error(404, [("name", f"no schema '{name}' (case, determination, record)")])  # type: ignore[return-value]
        return _schema(schemas[name])

    # ---- the page ----

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


@functools.cache
def _countries(lang: str) -> list[CountryInfo]:
    from eligibility.countries import alpha2_codes
    from eligibility.i18n import country_name

    found = [CountryInfo(code=code, name=country_name(code, lang)) for code in alpha2_codes()]
    return sorted(found, key=lambda c: c.name)


@functools.cache
def _schema(model: type[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = model.model_json_schema()
    return schema


def summarize(rec: DecisionRecord) -> Summary:
    """The short answer of a record and the parts the page shows apart."""
    from eligibility.explain.short import evidence_words, headline_words

    return Summary(
        headline=headline_words(rec),
        evidence=evidence_words(rec.evidence, rec.lang),
        caveats=list(rec.caveats),
        text=eligibility.render_text(rec, explain=False),
    )
