"""The OpenSearch search backend: the only module that imports ``opensearchpy``.

Reads and writes go through an alias (``index_prefix``) that points at one
physical index, ``{index_prefix}-{UTC timestamp}-{random}``. ``rebuild`` fills a
new physical index and swaps the alias in one atomic ``_aliases`` call, so
searches keep answering from the old index until the new one is complete
(https://opensearch.org/docs/latest/api-reference/index-apis/update-alias/).

Request bodies come from ``search.queries``. Every failure of the client (down,
slow, refused) becomes ``SearchUnavailable`` with a short message; the caller
falls back to the embedded index.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

import urllib3
from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, OpenSearchException, TransportError

from search import opensearch_index, queries
from search import opensearch_spelling as spelling
from search.analysis import MAX_JOINED_TERMS, RELAX_BELOW, QueryPlan, Synonyms, analyse, reanalysed
from search.common_words import all_common_words
from search.interfaces import SearchQuery, SearchResult, SearchUnavailable, Suggestion
from search.opensearch_results import result_of
from search.opensearch_text import EXACT_NAME_BOOST, fold

log = logging.getLogger(__name__)

# Writes of up to this many documents go in one bulk request that also refreshes,
# so they are searchable when index()/delete() return (the contract needs that).
SMALL_WRITE = 500
# index()/delete() run in the sync worker, not a page: they may wait longer than
# a search, but a hung node still fails them in seconds.
WRITE_TIMEOUT = 10.0
# rebuild: documents per bulk request, and how long one such request may take.
REBUILD_CHUNK = 1000
REBUILD_THREADS = 2
BULK_TIMEOUT = 60.0
ADMIN_TIMEOUT = 30.0
# Fewer results than this for the text as typed: try the text corrected.
FEW_RESULTS = 3

_INDEX_NOT_FOUND = "index_not_found_exception"
_VALID_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def _short(error: BaseException) -> str:
    """A one-line description of a client error, without the request or traceback."""
    if isinstance(error, OpenSearchConnectionError):
        return type(error).__name__  # ConnectionError / ConnectionTimeout
    if isinstance(error, TransportError):
        return f"{error.status_code} {error.error}"
    if isinstance(error, helpers.BulkIndexError):
        first = next(iter(error.errors[0].values()), {}) if error.errors else {}
        reason = (first.get("error") or {}).get("type", "") if isinstance(first, dict) else ""
        return f"{len(error.errors)} document(s) refused {reason}".strip()
    return type(error).__name__


@contextmanager
def _unavailable(action: str) -> Iterator[None]:
    """Turn any client, urllib3 or socket error into SearchUnavailable."""
    try:
        yield
    except SearchUnavailable:
        raise
    except (OpenSearchException, urllib3.exceptions.HTTPError, OSError) as error:
        # Enough to debug from the log, without a whole bulk request's documents.
        log.warning("OpenSearch %s failed: %.500r", action, error)
        raise SearchUnavailable(f"OpenSearch {action} failed: {_short(error)}") from None


def _unlisted(plan: QueryPlan, fixes: dict[str, str]) -> dict[str, str]:
    """``fixes`` without the words the synonym list knows: real words, no typos
    ("esignature")."""
    listed = {fold(term.single_word) for term in plan.terms
              if term.listed and term.single_word}
    return {word: fix for word, fix in fixes.items() if word not in listed}


def _exact_name_first(result: SearchResult) -> bool:
    """Whether the first hit is a listing named exactly as the query."""
    return bool(result.hits) and (result.hits[0].score or 0) >= EXACT_NAME_BOOST


def _is_missing_index(error: TransportError) -> bool:
    return isinstance(error, NotFoundError) and error.error == _INDEX_NOT_FOUND


class OpenSearchBackend:
    """``search.interfaces.SearchBackend`` on an OpenSearch 2.x cluster."""

    name = "opensearch"

    def __init__(self, url: str, index_prefix: str = "bazaar-listings", timeout: float = 2.0,
                 client=None, synonyms: Callable[[], Synonyms] | None = None):
        """``synonyms``: gives the synonym list in force (``search.synonyms``)."""
        if not _VALID_PREFIX.match(index_prefix):
            raise ValueError(f"index prefix must be lowercase letters, digits, - _ . : "
                             f"{index_prefix!r}")
        self.alias = index_prefix
        self.timeout = timeout
        # For messages: the node's address without any user:password in the URL.
        parts = urlsplit(url)
        self.location = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        # Short timeouts and no retries: a slow or dead cluster must fail fast so the
        # page can answer from the embedded index instead.
        self.client = client or OpenSearch(hosts=[url], timeout=timeout, max_retries=0,
                                           retry_on_timeout=False)
        self._alias_known = False
        self.synonyms = synonyms

    # --- index management --------------------------------------------------------

    def _synonym_lines(self) -> list[str]:
        """The synonym list in force, for the search analyzer of a new index."""
        return self.synonyms().solr_lines() if self.synonyms else []

    def _new_index_name(self) -> str:
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        return f"{self.alias}-{stamp}-{secrets.token_hex(3)}"

    def _aliased_indices(self, timeout: float | None = None) -> list[str]:
        """The physical indices the alias points at now (none when it doesn't exist)."""
        try:
            return sorted(self.client.indices.get_alias(name=self.alias,
                                                        request_timeout=timeout or self.timeout))
        except NotFoundError:
            return []

    def _own_indices(self) -> list[str]:
        """Every physical index this prefix made, aliased or left over."""
        pattern = re.compile(rf"^{re.escape(self.alias)}-\d{{14}}-[0-9a-f]{{6}}$")
        try:
            found = self.client.indices.get_alias(index=f"{self.alias}-*")
        except NotFoundError:
            return []
        return sorted(name for name in found if pattern.match(name))

    def ensure_index(self, timeout: float | None = None) -> None:
        """Create the first physical index and the alias, unless the alias exists
        (``timeout``: the longest to wait for each request)."""
        if self._alias_known:
            return
        with _unavailable("create index"):
            if not self._aliased_indices(timeout):
                body = opensearch_index.index_body(synonyms=self._synonym_lines())
                body["aliases"] = {self.alias: {}}
                self.client.indices.create(index=self._new_index_name(), body=body,
                                           request_timeout=timeout or ADMIN_TIMEOUT)
                self._settle_alias()
        self._alias_known = True

    def _settle_alias(self) -> None:
        """Two processes creating the first index at once would leave the alias on
        two indices (and writes refused); both keep the same one, the oldest name."""
        indices = self._aliased_indices()
        for extra in indices[1:]:
            self.client.indices.delete(index=extra, ignore_unavailable=True,
                                       request_timeout=ADMIN_TIMEOUT)

    def refresh(self) -> None:
        """Make every write so far searchable (tests, and the end of bulk writes)."""
        with _unavailable("refresh"):
            try:
                self.client.indices.refresh(index=self.alias, request_timeout=ADMIN_TIMEOUT)
            except NotFoundError:
                pass

    def drop(self) -> None:
        """Delete every physical index of this prefix, and so the alias (tests)."""
        with _unavailable("drop"):
            for index in self._own_indices():
                self.client.indices.delete(index=index, ignore_unavailable=True,
                                           request_timeout=ADMIN_TIMEOUT)
        self._alias_known = False

    # --- writing -------------------------------------------------------------------

    def _bulk(self, actions: list[dict], action: str, ignore_status: tuple = (),
              timeout: float | None = None) -> None:
        small = len(actions) <= SMALL_WRITE
        timeout = timeout or WRITE_TIMEOUT
        with _unavailable(action):
            # require_alias: a write must never auto-create a concrete index named
            # like the alias (with a guessed mapping) if the alias went missing.
            helpers.bulk(self.client, actions, chunk_size=SMALL_WRITE, max_retries=0,
                         ignore_status=ignore_status, require_alias=True,
                         refresh="true" if small else "false", request_timeout=timeout)
            if not small:
                self.client.indices.refresh(index=self.alias, request_timeout=timeout)

    def index(self, documents: Sequence[dict], timeout: float | None = None) -> None:
        """Add or replace these documents (by ``id``); searchable on return.
        ``timeout``: the longest to wait for each request (default WRITE_TIMEOUT)."""
        if not documents:
            return
        self.ensure_index(timeout)
        actions = [{"_op_type": "index", "_index": self.alias, "_id": str(doc["id"]),
                    "_source": queries.source_document(doc)} for doc in documents]
        try:
            self._bulk(actions, "index", timeout=timeout)
        except SearchUnavailable:
            # The alias may have been dropped since we last looked: look again next time.
            self._alias_known = False
            raise

    def delete(self, listing_ids: Sequence[int], timeout: float | None = None) -> None:
        """Remove these listings; unknown ids (and a missing index) are ignored.
        ``timeout`` as for ``index``."""
        if not listing_ids:
            return
        with _unavailable("delete"):
            if not self._alias_known and not self._aliased_indices(timeout):
                return  # no index yet: nothing to delete (and don't create one)
        actions = [{"_op_type": "delete", "_index": self.alias, "_id": str(listing_id)}
                   for listing_id in listing_ids]
        self._bulk(actions, "delete", ignore_status=(404,), timeout=timeout)  # gone: fine

    def rebuild(self, documents: Iterable[dict], total: int,
                progress: Callable[[int], None] | None = None) -> int:
        """Fill a fresh physical index and swap the alias to it in one atomic call.

        The new index is built with refresh off and no replicas (the fastest bulk
        load), then gets the default refresh interval back and one refresh before
        the swap. Old physical indices are deleted after the swap; on failure the
        half-built index is deleted and the alias is untouched.
        """
        new_index = self._new_index_name()
        with _unavailable("rebuild"):
            self.client.indices.create(index=new_index,
                                       body=opensearch_index.index_body(
                                           refresh_interval="-1", synonyms=self._synonym_lines()),
                                       request_timeout=ADMIN_TIMEOUT)
        try:
            done = self._fill(new_index, documents, progress)
            with _unavailable("rebuild"):
                self.client.indices.put_settings(index=new_index,
                                                 body=opensearch_index.restore_settings_body(),
                                                 request_timeout=ADMIN_TIMEOUT)
                self.client.indices.refresh(index=new_index, request_timeout=ADMIN_TIMEOUT)
                old = self._aliased_indices()
                swap = [{"remove": {"index": index, "alias": self.alias}} for index in old]
                swap.append({"add": {"index": new_index, "alias": self.alias}})
                self.client.indices.update_aliases(body={"actions": swap},
                                                   request_timeout=ADMIN_TIMEOUT)
        except BaseException:
            self._delete_quietly(new_index)
            raise
        self._alias_known = True
        for index in old:
            self._delete_quietly(index)
        return done

    def _fill(self, index: str, documents: Iterable[dict],
              progress: Callable[[int], None] | None) -> int:
        actions = ({"_op_type": "index", "_index": index, "_id": str(doc["id"]),
                    "_source": queries.source_document(doc)} for doc in documents)
        done = reported = 0
        with _unavailable("rebuild"):
            # parallel_bulk sends chunks from REBUILD_THREADS threads while this one
            # builds the next documents (reading the database, Markdown to text),
            # so neither waits for the other; one result per document.
            for ok, item in helpers.parallel_bulk(self.client, actions,
                                                  thread_count=REBUILD_THREADS,
                                                  chunk_size=REBUILD_CHUNK,
                                                  request_timeout=BULK_TIMEOUT):
                done += 1
                if progress is not None and done - reported >= REBUILD_CHUNK:
                    progress(done)
                    reported = done
        if progress is not None and done != reported:
            progress(done)
        return done

    def _delete_quietly(self, index: str) -> None:
        try:
            self.client.indices.delete(index=index, ignore_unavailable=True,
                                       request_timeout=ADMIN_TIMEOUT)
        except (OpenSearchException, urllib3.exceptions.HTTPError, OSError) as error:
            log.warning("Could not delete old search index %s: %r", index, error)

    # --- reading -------------------------------------------------------------------

    def _search(self, body: dict, action: str) -> dict | None:
        """Run one ``_search`` on the alias; None when the index doesn't exist yet."""
        with _unavailable(action):
            try:
                return self.client.search(index=self.alias, body=body)
            except NotFoundError as error:
                if _is_missing_index(error):
                    return None
                raise

    def search(self, query: SearchQuery) -> SearchResult:
        """One page of hits, the total and facets.

        When a word of the text is in no listing, or in a few while a word ten
        times as common is near it, or the text finds fewer than ``FEW_RESULTS`` (with
        the filters, and without: ``_few_found``),
        the text corrected by the index's term suggester is searched for instead
        (if it finds something, or more):
        ``corrected_text`` says so. With ``query.correct_spelling`` off, the
        correction is only offered (``did_you_mean``)."""
        text = queries.clean_text(query.text)
        synonyms = self.synonyms() if self.synonyms else None
        plan = analyse(text, synonyms)
        if text and plan.empty:
            # Only punctuation or symbols: nothing to look for (never "everything").
            return SearchResult(hits=[], total=0, facets={name: [] for name in queries.FACETS})
        result, response = self._run(query, plan, spelling=bool(text))
        if result is None:
            return SearchResult(hits=[], total=0,
                                facets={name: [] for name in queries.FACETS})
        if not text or _exact_name_first(result):
            # A name asked for (as typed, or with a space too many: "chatter box")
            # is no typo, whatever words of it no listing has alone.
            return result
        typing, fixes, asked = self._typing_and_typos(
            plan, response, _unlisted(plan, spelling.corrections(response)))
        # A word some listings have is no typo when a name has every word of the
        # text ("node js": "Node.js Monitor"); words no listing has still are.
        named = spelling.names_the_query(response)
        if not fixes and not named:
            fixes = _unlisted(plan, self._popular_corrections(plan, response, typing))
        if not fixes and not self._few_found(query, plan, result):
            return result  # enough found
        missing = bool(fixes)
        # Words of everyday English in no listing were meant, not mistyped, when the
        # rest of the text finds something (search.common_words): offered, not run.
        meant = missing and bool(result.total) and all_common_words(fixes)
        if not fixes:
            # Few found: any word may be corrected now, the one being typed too.
            if plan.prefix and not typing and not asked:
                typing = self._typing(plan.prefix)
            fixes = _unlisted(plan, self._corrections(plan, text, typing, missing_only=named))
        fixes = spelling.named_where_tied(plan, self._parts_of_words_left_alone(plan, fixes),
                                          response, lambda body: self._search(body, "spelling"))
        # The corrections join each word as alternatives: what the word as
        # typed finds (an unusual name, say) is kept; and
        # what the corrected words mean gets its synonyms (reanalysed).
        fixed_plan = reanalysed(plan.with_terms([
            term.with_corrections([fixes[term.single_word]]) if term.single_word in fixes
            else term for term in plan.terms]), synonyms)
        corrected = fixed_plan.corrected_text
        if not corrected:
            return self._apart(query, plan, result, typing)
        fixed_query = replace(query, text=corrected)
        if not query.correct_spelling or meant:
            check = self._search(queries.count_body(fixed_query, fixed_plan), "spelling")
            # Offered on the terms it would be used on (below): it finds something,
            # or, for a word some listings have, more than the text as typed.
            if check and check["hits"]["total"]["value"] > (0 if missing else result.total):
                result.did_you_mean = corrected
            return result
        fixed, _ = self._run(fixed_query, fixed_plan, corrected_name=corrected)
        if fixed is not None and fixed.total > (0 if missing else result.total):
            fixed.corrected_text = corrected
            return fixed
        return result

    def _run(self, query: SearchQuery, plan: QueryPlan, spelling: bool = False,
             corrected_name: str | None = None) -> tuple[SearchResult | None, dict | None]:
        """One search (and its raw response, for the spelling suggestions); when
        few match, again with any one term enough."""
        response = self._search(queries.search_body(query, plan, spelling=spelling,
                                                    corrected_name=corrected_name), "search")
        if response is None:
            return None, None
        window = queries.category_window(query, not plan.empty)
        result = result_of(response, plan, window)
        # The very app named needs no company (and a name's common word, like
        # "Scheduler", would otherwise bring back half the catalog).
        relaxed = (plan.relaxed() if result.total < RELAX_BELOW and not plan.empty
                   and not _exact_name_first(result) else None)
        if relaxed is not None and query.has_filters:
            # Few is the text's to say, not the filters' (as in search.correction):
            # the facet counts beside the filters are of full matches.
            unfiltered = self._search(queries.count_body(query.without_filters(), plan,
                                                         corrected_name=corrected_name),
                                      "search")
            if unfiltered is not None and unfiltered["hits"]["total"]["value"] >= RELAX_BELOW:
                relaxed = None
        if relaxed is not None:
            wider = self._search(queries.search_body(query, relaxed,
                                                     corrected_name=corrected_name), "search")
            if wider is not None and wider["hits"]["total"]["value"] > result.total:
                result = result_of(wider, relaxed, window)
                result.unmatched = self._unmatched(relaxed)
        return result, response

    def _unmatched(self, plan: QueryPlan) -> tuple[str, ...]:
        """The terms of a widened search that no listing has, to say so above its hits
        (``queries.unmatched_searches``: one small request, about 2 ms at 20,000
        listings, against 2 to 9 ms as aggregations in the widened search itself);
        none when it fails, as the hits stand without it."""
        try:
            with _unavailable("unmatched words"):
                answer = self.client.msearch(index=self.alias,
                                             body=queries.unmatched_searches(plan))
        except SearchUnavailable:
            return ()
        return queries.unmatched_words(plan, answer)

    def _few_found(self, query: SearchQuery, plan: QueryPlan, result: SearchResult) -> bool:
        """Whether the text finds fewer than ``FEW_RESULTS`` listings, as
        ``search.correction.few_found`` has it: not when a filter leaves few of the
        many it finds without (counted, widened as the search is, only then)."""
        if result.total >= FEW_RESULTS:
            return False
        if not query.has_filters:
            return True
        for counted in filter(None, (plan, plan.relaxed())):
            found = self._search(queries.count_body(query.without_filters(), counted),
                                 "spelling")
            if found is not None and found["hits"]["total"]["value"] >= FEW_RESULTS:
                return False
        return True

    def _apart(self, query: SearchQuery, plan: QueryPlan, result: SearchResult,
               typing: str | None) -> SearchResult:
        """The search again with each word no listing has that is two (or three)
        words some listings have run together also matched by them apart ("toolbox":
        "tool box"), as the embedded indexes do, unless it finds fewer than ``result``;
        counted in one small request, asked only when nothing else corrected the text.
        As many is enough: the words apart rank what they match first."""
        words = [fold(term.single_word) for term in plan.terms
                 if term.single_word and term.single_word != typing]
        words = [word for word in words if spelling.splits(word)]
        if not words or len(plan.terms) > MAX_JOINED_TERMS:
            return result
        apart = spelling.words_apart(words, self._search(spelling.apart_counts_body(words),
                                                         "spelling") or {})
        if not apart:
            return result
        wider, _ = self._run(query, plan.with_terms([
            term.with_alternative(apart[fold(term.single_word)])
            if fold(term.single_word or "") in apart else term for term in plan.terms]))
        return wider if wider is not None and wider.total >= result.total else result

    def _typing_and_typos(self, plan: QueryPlan, response: dict, fixes: dict[str, str]
                          ) -> tuple[str | None, dict[str, str], bool]:
        """The word being typed when it starts a word of some listing's name (no typo
        then, as in the embedded indexes: "chatt" while typing "Chatterbox"), and
        ``fixes`` (of words no listing has as typed) without it and without the words
        a search finds by their stem (``spelling.typos_only``); and whether every
        listing was asked about the word being typed.

        The matches of the search say whether the word being typed starts a name.
        When none does and there is a correction to weigh for it, every listing is
        asked ("values yaml": no listing has both words, but "YAML Lint" starts with
        the second), in the same small request as the stems, made only if needed."""
        typing = plan.prefix if spelling.typing_a_name(response) else None
        ask = bool(plan.prefix) and not typing and plan.prefix in {
            **spelling.corrections(response), **spelling.rare_words(response)}
        if not ask:
            return typing, self._typos_only(fixes, typing, response), False
        found = self._search(spelling.stemmed_counts_body(list(fixes), typing=plan.prefix),
                             "spelling") or {}
        if spelling.starts_a_name(found):
            typing = plan.prefix
        words = {word: fix for word, fix in fixes.items() if word != typing}
        return typing, spelling.typos_only(words, found, response), True

    def _parts_of_words_left_alone(self, plan: QueryPlan, fixes: dict[str, str]) -> dict:
        """``fixes`` without the words that, run together with a neighbouring word, are
        a word some listing has ("clinic flow": "ClinicFlow"), counted in one small
        request, made only when a corrected word has such a neighbour."""
        joined = spelling.run_together_words(plan, fixes)
        if not joined:
            return fixes
        words = sorted({whole for wholes in joined.values() for whole in wholes})
        counted = self._search(spelling.counts_body(words), "spelling") or {}
        return spelling.parts_of_words_left_alone(fixes, joined, counted)

    def _typing(self, word: str) -> str | None:
        """``word`` (being typed) if a word of some listing's name starts with it."""
        found = self._search(spelling.stemmed_counts_body([], typing=word), "spelling")
        return word if spelling.starts_a_name(found or {}) else None

    def _popular_corrections(self, plan: QueryPlan, response: dict,
                             typing: str | None) -> dict[str, str]:
        """Rare words a far commoner word is near (``spelling.popular_corrections``),
        but not ``typing`` (the word being typed, which starts a name), counted in
        one small request, made only when the suggester found such a word."""
        rare = spelling.rare_words(response)
        rare.pop(typing, None)
        if not rare:
            return {}
        counted = self._search(spelling.counts_body(list(rare)), "spelling")
        return self._not_meant_together(plan, spelling.popular_corrections(rare, counted or {}))

    def _not_meant_together(self, plan: QueryPlan, fixes: dict[str, str]) -> dict[str, str]:
        """``fixes`` of words some listings have, without those meant as typed
        (``spelling.meant_together``): one small request, for a text of several words."""
        words = [fold(word) for word in plan.term_words()]
        if len(words) < 2 or not fixes:
            return fixes
        counted = self._search(spelling.together_counts_body(words, fixes), "spelling")
        return spelling.meant_together(fixes, counted or {})

    def _typos_only(self, fixes: dict[str, str], typing: str | None, answer: dict) -> dict:
        """``fixes`` of words no listing has as typed, without ``typing`` (the word
        being typed, which starts a name) and without those a search finds by their stem
        (``spelling.typos_only``; ``answer`` has the suggestions): asked if there are some."""
        fixes = {word: fix for word, fix in fixes.items() if word != typing}
        if not fixes:
            return fixes
        found = self._search(spelling.stemmed_counts_body(list(fixes)), "spelling")
        return spelling.typos_only(fixes, found or {}, answer)

    def _corrections(self, plan: QueryPlan, text: str, typing: str | None,
                     missing_only: bool = False) -> dict[str, str]:
        """Misspelt words of the text and their corrections: words in no
        listing first, then (unless ``missing_only``) rare words that a more
        common word is near; never ``typing`` (the word being typed, which starts
        a name)."""
        missing: set[str] = set()
        for mode in ("missing",) if missing_only else ("missing", "popular"):
            response = self._search(spelling.spelling_body(text, mode), "spelling")
            fixes = spelling.corrections(response or {})
            if mode == "missing":
                missing = set(fixes)
                fixes = self._typos_only(fixes, typing, response or {})
            else:
                # A word in no listing was judged above ("nailed", found by its stem
                # "nail", is no typo of "failed"): only rare words are left to this.
                fixes = self._not_meant_together(plan, {
                    word: fix for word, fix in fixes.items() if word not in missing})
            fixes.pop(typing, None)
            if fixes:
                return fixes
        return {}

    def suggest(self, prefix: str, limit: int = 8) -> list[Suggestion]:
        """Listings whose name (or a word of it) starts with ``prefix``, best first."""
        body = queries.suggest_body(prefix, limit)
        if body is None or body["size"] == 0:
            return []
        response = self._search(body, "suggest")
        if response is not None and not response["hits"]["hits"]:
            # No name starts so: names near it, a typo or two away (one request more).
            misspelt = queries.misspelt_suggest_body(prefix, limit)
            if misspelt is not None:
                response = self._search(misspelt, "suggest")
        if response is None:
            return []
        return [Suggestion(id=int(hit["_id"]), slug=hit["_source"].get("slug", ""),
                           name=hit["_source"].get("name", ""),
                           category=hit["_source"].get("category", ""))
                for hit in response["hits"]["hits"]]

    def settings_outdated(self) -> bool:
        """Whether the index was made with other analysis settings or mapping than
        this code's (``opensearch_index.SETTINGS_VERSION``): only a rebuild (`flask search
        reindex`) applies them. False before the first index (it is made current)."""
        with _unavailable("read mapping"):
            try:
                found = self.client.indices.get_mapping(index=self.alias,
                                                        request_timeout=ADMIN_TIMEOUT)
            except NotFoundError as error:
                if _is_missing_index(error):
                    return False
                raise
        return any((index.get("mappings", {}).get("_meta") or {}).get("settings_version")
                   != opensearch_index.SETTINGS_VERSION for index in found.values())

    def count(self) -> int:
        """How many documents the index holds (0 before the first write)."""
        with _unavailable("count"):
            try:
                return int(self.client.count(index=self.alias)["count"])
            except NotFoundError as error:
                if _is_missing_index(error):
                    return 0
                raise

    def ping(self) -> bool:
        """True when the cluster answers now; never raises."""
        try:
            return bool(self.client.ping(request_timeout=self.timeout))
        except Exception:  # noqa: BLE001  (ping must never raise)
            return False
