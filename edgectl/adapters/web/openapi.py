"""The OpenAPI 3.1 document, generated from the route table, and the docs page.

Every RouteSpec becomes one operation with its roles (in the description and
`x-roles`), parameters, body and responses; every error is a problem+json
`default` response. The docs page is self-contained (no CDN: the box has no
internet): it reads the document and offers a small request explorer.
"""

from __future__ import annotations

from typing import Any

from edgectl.adapters.web.routing import ANON, RouteSpec
from edgectl.adapters.web.schemas import COMPONENTS, INT, STR, ref

API_PREFIX = "/api/v1"
PATH_PARAM_SCHEMAS = {"transaction_id": INT, "alarm_id": INT}


def _operation(spec: RouteSpec) -> dict[str, Any]:
    roles = sorted(r for r in spec.roles if r != ANON)
    who = "anyone" if ANON in spec.roles else ", ".join(roles)
    op: dict[str, Any] = {
        "operationId": spec.handler.__name__,
        "summary": spec.summary,
        "tags": [spec.tag],
        "description": (spec.description + "\n\n" if spec.description else "") + f"Roles: {who}.",
        "x-roles": sorted(spec.roles),
    }
    params: list[dict[str, Any]] = [
        {"name": p, "in": "path", "required": True, "schema": PATH_PARAM_SCHEMAS.get(p, {**STR, "minLength": 1})}
        for p in spec.path_params
    ]
    params += [{"name": q.name, "in": "query", "required": False, "schema": q.schema, "description": q.description}
               for q in spec.query]
    if params:
        op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {"required": True, "content": {spec.body_media: {"schema": spec.body}}}
    ok: dict[str, Any] = {"description": "OK"}
    if spec.status != 204:
        if spec.response_media == "application/json" or spec.response is not None:
            ok["content"] = {spec.response_media: {"schema": spec.response or {}}}
        else:
            ok["content"] = {spec.response_media: {"schema": {"type": "string"}}}
    op["responses"] = {
        str(spec.status): ok,
        "default": {"description": "An error (problem+json)",
                    "content": {"application/problem+json": {"schema": ref("Problem")}}},
    }
    if ANON not in spec.roles:
        op["security"] = [{"cookie": []}, {"basic": []}, {"bearer": []}]
    return op


def build_document(routes: list[RouteSpec], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in routes:
        paths.setdefault(spec.full_path, {})[spec.method.lower()] = _operation(spec)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "edgectl REST API",
            "version": version,
            "description": "On-site EV-charging load management. Errors are application/problem+json. "
            "Cookie sessions need the X-CSRF-Token header on state-changing requests; HTTP Basic and Bearer "
            "do not. See docs/api.md.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": COMPONENTS,
            "securitySchemes": {
                "cookie": {"type": "apiKey", "in": "cookie", "name": "edgectl_session"},
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgectl API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
header{background:#16324f;color:#fff;padding:12px 20px}header h1{margin:0;font-size:1.2rem}
main{max-width:1100px;margin:0 auto;padding:16px}
details{background:#fff;border:1px solid #d5dde6;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:8px 12px;font-family:monospace}
.m{display:inline-block;width:64px;font-weight:bold}.GET{color:#1a7f37}.POST{color:#0969da}
.PUT{color:#9a6700}.PATCH{color:#8250df}.DELETE{color:#cf222e}
.op{padding:8px 14px;border-top:1px solid #eef1f4}pre{background:#0f1923;color:#d6e2ee;padding:8px;overflow:auto;
max-height:320px}input,textarea{width:100%;box-sizing:border-box;font-family:monospace}
button{background:#16324f;color:#fff;border:0;border-radius:4px;padding:6px 14px;margin-top:6px;cursor:pointer}
</style></head><body><header><h1>edgectl REST API</h1></header><main>
<p>Document: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>. Requests below use your browser session
(log in on the dashboard first) and send the CSRF token automatically.</p><div id="ops"></div></main>
<script>
function csrf(){const m=document.cookie.match(/(?:^|; )edgectl_csrf=([^;]*)/);return m?decodeURIComponent(m[1]):""}
function el(t,a,c){const e=document.createElement(t);Object.assign(e,a||{});(c||[]).forEach(x=>e.append(x));return e}
fetch("/api/v1/openapi.json").then(r=>r.json()).then(doc=>{
 const root=document.getElementById("ops");
 for(const [path,ops] of Object.entries(doc.paths)){for(const [method,op] of Object.entries(ops)){
  const M=method.toUpperCase();const params=(op.parameters||[]);const inputs={};
  const body=op.requestBody?el("textarea",{rows:6,placeholder:"request body"}):null;
  const out=el("pre",{textContent:""});
  const form=el("div",{className:"op"},[el("p",{textContent:op.description||""})]);
  params.forEach(p=>{inputs[p.name]=el("input",{placeholder:p.name+" ("+p.in+")"});form.append(inputs[p.name])});
  if(body)form.append(body);
  const go=el("button",{textContent:"Send"});form.append(go,out);
  go.onclick=async()=>{let url=path;const q=new URLSearchParams();
   params.forEach(p=>{const v=inputs[p.name].value;if(!v)return;
    if(p.in==="path")url=url.replace("{"+p.name+"}",encodeURIComponent(v));else q.append(p.name,v)});
   if([...q].length)url+="?"+q;
   const media=op.requestBody?Object.keys(op.requestBody.content)[0]:"application/json";
   const r=await fetch(url,{method:M,headers:{"X-CSRF-Token":csrf(),"Content-Type":media},
    body:body&&body.value?body.value:undefined,credentials:"same-origin"});
   out.textContent=r.status+" "+r.statusText+"\\n\\n"+await r.text()};
  root.append(el("details",{},[el("summary",{},[el("span",{className:"m "+M,textContent:M}),
   document.createTextNode(path+"  "+op.summary)]),form]))}}});
</script></body></html>
"""
