"""Steps of the web import as a browser without JavaScript takes them: upload, the
mapping step (its form as pre-filled, with changes), the preview (a job's page)."""
from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

LIST = "/officials/imports"


def form_html(html: str, action_pattern: str) -> str:
    form = re.search(rf'<form method="post" action="({action_pattern})"[^>]*>(.*?)</form>',
                     html, re.DOTALL)
    assert form, f"no form posting to {action_pattern}"
    return form.group(0)


def form_action(html: str, action_pattern: str) -> str:
    return html_lib.unescape(re.search(r'action="([^"]+)"',
                                       form_html(html, action_pattern)).group(1))


def form_fields(html: str, action_pattern: str) -> dict[str, str]:
    """What the form posting to `action_pattern` (a regex) sends as it stands: hidden
    and text inputs, and each select's selected option (else its first)."""
    form = form_html(html, action_pattern)
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", form):
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if attrs.get("type") in ("hidden", "text") and "name" in attrs:
            fields[attrs["name"]] = html_lib.unescape(attrs.get("value", ""))
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form,
                                 re.DOTALL):
        options = re.findall(r'<option value="([^"]*)"( selected)?', body)
        chosen = next((v for v, sel in options if sel), options[0][0] if options else "")
        fields[name] = html_lib.unescape(chosen)
    return fields


def select_options(html: str, name: str) -> list[str]:
    """The visible texts of a select's options."""
    body = re.search(rf'<select name="{re.escape(name)}"[^>]*>(.*?)</select>', html, re.DOTALL)
    assert body, f"no select {name}"
    return [html_lib.unescape(t.strip()) for t in re.findall(r"<option[^>]*>([^<]*)</option>",
                                                            body.group(1))]


def csrf(client, path: str = LIST) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on " + path
    return match.group(1)


def post_upload(client, path: Path, *, lang: str = "vi", layer: str = "protection_zones",
                preset: str = "khoanh-vung-bao-ve", encoding: str = "", crs: str = ""):
    """The upload form's POST (a redirect to the mapping step, or a refusal)."""
    data = {"csrf_token": csrf(client), "layer": layer, "preset": preset, "crs": crs,
            "encoding": encoding, "source_layer": ""}
    with path.open("rb") as fh:
        data["file"] = (fh, path.name)
        return client.post(f"{LIST}/preview?lang={lang}", data=data,
                           content_type="multipart/form-data")


MAPPING = r"/officials/imports/[\w-]+/mapping"


def post_mapping(client, mapping_html: str, changes: dict[str, str] | None = None, *,
                 action: str = "preview", lang: str = "vi"):
    fields = form_fields(mapping_html, MAPPING)
    fields.update(changes or {})
    fields["action"] = action
    return client.post(form_action(mapping_html, MAPPING) + f"?lang={lang}", data=fields)


def upload_and_preview(client, path: Path, *, lang: str = "vi",
                       changes: dict[str, str] | None = None, **options: str):
    """Upload, accept the mapping step as pre-filled (with `changes`), and follow to the
    preview: the last response (a refusal of the upload stops there)."""
    response = post_upload(client, path, lang=lang, **options)
    if response.status_code != 302:
        return response
    mapping_page = client.get(response.headers["Location"] + f"?lang={lang}")
    assert mapping_page.status_code == 200, mapping_page.get_data(as_text=True)
    response = post_mapping(client, mapping_page.get_data(as_text=True), changes, lang=lang)
    if response.status_code != 302:
        return response
    return client.get(response.headers["Location"] + f"?lang={lang}")


CONFIRM = r"/officials/imports/jobs/\d+/confirm"
