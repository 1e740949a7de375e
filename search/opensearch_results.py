"""OpenSearch's answer to a search body as a ``SearchResult`` (``search.opensearch``):
its hits in the order category feedback gives them, each with its highlights, marked
in Python from the name, tagline and description the hit brings (``search.highlights``),
and the facet counts."""

from __future__ import annotations

from search.analysis import QueryPlan
from search.category_feedback import reordered
from search.highlights import plan_highlighter
from search.interfaces import FacetValue, SearchHit, SearchResult
from search.opensearch_text import ALL_TERMS_BOOST
from search.queries import facets_from


def result_of(response: dict, plan: QueryPlan,
              window: tuple[int, int] | None = None) -> SearchResult:
    """``window``: the page's ``(from, size)`` among the first matches, which category
    feedback reorders (``queries.category_window``)."""
    found = response["hits"]["hits"]
    hits = [SearchHit(id=int(hit["_id"]), score=hit.get("_score")) for hit in found]
    if window is not None:
        categories = [(hit.get("fields") or {}).get("category_slug", [None])[0]
                      for hit in found]
        # A score is its tiers' constants plus a text score far below them.
        scores = [hit.score or 0.0 for hit in hits]
        hits = reordered(hits, [score // ALL_TERMS_BOOST for score in scores],
                         [score % ALL_TERMS_BOOST for score in scores], categories)
        start, size = window
        hits = hits[start:start + size]
    texts = {int(hit["_id"]): hit["_source"] for hit in found if hit.get("_source")}
    if texts and not plan.empty:
        marker = plan_highlighter(plan)
        for hit in hits:
            if hit.id in texts:
                hit.highlights = marker.highlights(texts[hit.id])
    facets = {name: [FacetValue(value, count) for value, count in values]
              for name, values in facets_from(response.get("aggregations")).items()}
    return SearchResult(hits=hits, total=response["hits"]["total"]["value"], facets=facets)
