"""Purpose headers for outbound calls, rendered from per-source templates in sources.yaml.

Why: BRP gateways and other sources require the purpose (doelbinding), the processing activity, the
requesting organisation (OIN) and the user on every call; each source names the headers differently.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from urllib.parse import quote

from dgkb.domain.context import Actor, Trace
from dgkb.domain.register import Verwerkingsactiviteit


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def render_headers(
    templates: Mapping[str, str], *, purpose: Verwerkingsactiviteit | None, actor: Actor, trace: Trace
) -> dict[str, str]:
    """Fill the templates; non-ASCII is percent-encoded (HTTP header values must be ASCII).
    Every call gets its own W3C `traceparent` (same trace id, new span id)."""
    values = _Values(
        {
            "doel.id": purpose.id if purpose else "",
            "doel.naam": purpose.naam if purpose else "",
            "organisatie.oin": purpose.organisatie.oin if purpose else actor.organisation,
            "organisatie.naam": purpose.organisatie.naam if purpose else "",
            "grondslag": purpose.grondslag.wet if purpose else "",
            "gebruiker.id": actor.id,
            "gebruiker.rol": actor.role.value,
        }
    )
    headers = {}
    for name, template in templates.items():
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f]
        rendered = template
        for field in fields:
            rendered = rendered.replace("{" + field + "}", values[field])
        headers[name] = quote(rendered, safe=" !#$&'()*+,/:;=?@[]~-._")
    headers["traceparent"] = trace.child().traceparent
    return headers
