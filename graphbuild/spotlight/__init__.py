"""DBpedia Spotlight as a service graphbuild asks: the HTTP client, and long texts in parts.

    client  ``Spotlight``: ``/annotate`` with a rate limit, retries and deadlines;
            ``SpotlightSettings``: where it is and what to ask
    split   texts cut at sentence ends, and the parts' answers merged back into one

Reading an answer into a document is ``graphbuild.readers.spotlight``'s, as for a file.
"""

from __future__ import annotations

from graphbuild.spotlight.client import Answer, NotAnnotated, Spotlight, SpotlightSettings

__all__ = ["Answer", "NotAnnotated", "Spotlight", "SpotlightSettings"]
