"""The box's own settings edited from the web: security policy, network, CPO link.

Stored as JSON documents in the store's box settings (`security`, `network`,
`supervision`); a group never written means the defaults (the daemon
configuration and `SecurityPolicy`).

- security: failed logins before lock-out, lock-out period, inactivity
  timeout apply at once (the `Authenticator`'s policy is replaced); TLS 1.0
  restarts the HTTPS listener live when the daemon serves HTTPS (the OCPP TLS
  listener takes it at the next start);
- network: validated (addresses, subnet, gateway inside it, DNS, DHCP-server
  range) and rendered as a systemd-networkd `.network` file written into the
  configured directory (`[system] network_dir`, default `<data_dir>/network`);
  the OS applies it on reboot — nothing here touches the running network;
- supervision (the link to a CPO): validated and stored; the relay itself is
  not built in this version, so nothing connects upstream yet.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from edgectl.adapters.store import Store
from edgectl.adapters.web.deps import SecurityPolicy
from edgectl.adapters.web.problems import Problem
from edgectl.settings import WebConfig

SECURITY, NETWORK, SUPERVISION = "security", "network", "supervision"
SECURITY_KEYS = ("max_failures", "lockout_s", "inactivity_s")
HOSTNAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
IDENTITY_RE = re.compile(r"^[A-Za-z0-9._:@-]{1,48}$")
RELAY_NOT_BUILT = ("not built: this version stores and validates the CPO link but does not connect to the CPO "
                   "(stations are not relayed upstream)")


@dataclass
class BoxState:
    """What the running web adapter applies from the box settings."""

    tls10: bool = False


BOX = web.AppKey("edgectl_box", BoxState)


# --- security -------------------------------------------------------------------------------


async def load_security(store: Store, base: SecurityPolicy, config: WebConfig) -> tuple[SecurityPolicy, bool]:
    """The effective policy and TLS 1.0 flag: stored values over the defaults."""
    stored = await store.box_settings.get(SECURITY) or {}
    policy = replace(base, **{k: stored[k] for k in SECURITY_KEYS if k in stored})
    return policy, bool(stored.get("tls10", config.tls10))


# --- network --------------------------------------------------------------------------------

NETWORK_DEFAULTS: dict[str, Any] = {
    "hostname": "edgectl", "dhcp": True, "address": None, "netmask": None, "gateway": None, "dns": [],
    "proxy": None, "dhcp_server": False, "dhcp_range_start": None, "dhcp_range_end": None,
}


def _ip(value: Any, name: str, errors: list[str], v4: bool = True) -> Any:
    try:
        return ipaddress.IPv4Address(value) if v4 else ipaddress.ip_address(value)
    except (ValueError, TypeError):
        errors.append(f"{name}: {value!r} is not a valid {'IPv4 ' if v4 else 'IP '}address")
        return None


def validate_network(doc: dict[str, Any]) -> dict[str, Any]:
    """The complete network settings, or Problem 422 naming every bad field."""
    net = {**NETWORK_DEFAULTS, **doc}
    errors: list[str] = []
    for key in ("address", "netmask", "gateway", "proxy", "dhcp_range_start", "dhcp_range_end"):
        if isinstance(net[key], str):
            net[key] = net[key].strip() or None
    net["dns"] = [d.strip() for d in net["dns"] if d.strip()]
    if not HOSTNAME_RE.match(net["hostname"] or ""):
        errors.append("hostname: 1-63 letters, digits or '-', not starting or ending with '-'")
    subnet = address = None
    if not net["dhcp"]:
        if net["address"] is None:
            errors.append("address: required without DHCP")
        else:
            address = _ip(net["address"], "address", errors)
        if net["netmask"] is None:
            errors.append("netmask: required without DHCP")
        else:
            try:
                mask = ipaddress.IPv4Network(f"0.0.0.0/{net['netmask']}").netmask
                net["netmask"] = str(mask)
            except ValueError:
                errors.append(f"netmask: {net['netmask']!r} is not a valid netmask (e.g. 255.255.255.0 or 24)")
        if address is not None and "netmask" not in " ".join(errors):
            subnet = ipaddress.IPv4Network(f"{address}/{net['netmask']}", strict=False)
            if subnet.prefixlen < 31 and address in (subnet.network_address, subnet.broadcast_address):
                errors.append(f"address: {address} is the network or broadcast address of {subnet}")
        if net["gateway"] is not None:
            gateway = _ip(net["gateway"], "gateway", errors)
            if gateway is not None and subnet is not None:
                if gateway not in subnet:
                    errors.append(f"gateway: {gateway} is outside the subnet {subnet}")
                elif gateway == address:
                    errors.append("gateway: it cannot be the box's own address")
    for i, d in enumerate(net["dns"]):
        _ip(d, f"dns[{i}]" if i else "dns", errors, v4=False)
    if net["proxy"] is not None:
        parts = urlsplit(net["proxy"])
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors.append("proxy: an http:// or https:// URL with a host, e.g. http://proxy.local:3128")
    if net["dhcp_server"]:
        if net["dhcp"]:
            errors.append("dhcp_server: the box serves DHCP only with a fixed address (turn DHCP off)")
        start = _ip(net["dhcp_range_start"], "dhcp_range_start", errors) if net["dhcp_range_start"] else None
        end = _ip(net["dhcp_range_end"], "dhcp_range_end", errors) if net["dhcp_range_end"] else None
        if start is None or end is None:
            if not any(e.startswith("dhcp_range") for e in errors):
                errors.append("dhcp_range_start: the DHCP server needs a start and an end address")
        elif subnet is not None:
            if start not in subnet or end not in subnet:
                errors.append(f"dhcp_range_start: the range must be inside the subnet {subnet}")
            elif start > end:
                errors.append("dhcp_range_end: the end comes before the start")
            elif address is not None and start <= address <= end:
                errors.append(f"dhcp_range_start: the range contains the box's own address {address}")
    if errors:
        raise Problem(422, errors[0] if len(errors) == 1 else f"{len(errors)} problems: {errors[0]}", errors=errors)
    if net["dhcp"]:
        net.update(address=None, netmask=None, gateway=None)
    return net


def render_networkd(net: dict[str, Any], interface: str) -> str:
    """A systemd-networkd `.network` file for these (validated) settings."""
    lines = ["# Written by edgectl (Admin > Network); applied by systemd-networkd on reboot.",
             f"# Host name: {net['hostname']}" + (f"; proxy: {net['proxy']}" if net["proxy"] else ""),
             "", "[Match]", f"Name={interface}", "", "[Network]"]
    if net["dhcp"]:
        lines.append("DHCP=ipv4")
    else:
        subnet = ipaddress.IPv4Network(f"{net['address']}/{net['netmask']}", strict=False)
        lines.append(f"Address={net['address']}/{subnet.prefixlen}")
        if net["gateway"]:
            lines.append(f"Gateway={net['gateway']}")
    lines += [f"DNS={d}" for d in net["dns"]]
    if net["dhcp_server"]:
        subnet = ipaddress.IPv4Network(f"{net['address']}/{net['netmask']}", strict=False)
        start, end = ipaddress.IPv4Address(net["dhcp_range_start"]), ipaddress.IPv4Address(net["dhcp_range_end"])
        lines += ["DHCPServer=yes", "", "[DHCPServer]",
                  f"PoolOffset={int(start) - int(subnet.network_address)}", f"PoolSize={int(end) - int(start) + 1}"]
        lines += [f"DNS={d}" for d in net["dns"][:1]]
    return "\n".join(lines) + "\n"


def network_file(directory: Path, interface: str) -> Path:
    return directory / f"10-edgectl-{interface}.network"


def write_network(directory: Path, interface: str, text: str) -> Path:
    """Atomically (write + rename) into `directory`, which is created if needed."""
    directory.mkdir(parents=True, exist_ok=True)
    target = network_file(directory, interface)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target


def remove_network(directory: Path, interface: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        network_file(directory, interface).unlink()


# --- the link to a CPO (remote supervision) ------------------------------------------------------

SUPERVISION_DEFAULTS: dict[str, Any] = {"enabled": False, "url": "", "identity": "", "security_profile": 0,
                                        "password": ""}


def validate_supervision(current: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The new stored settings, or Problem 422. `password`: omitted or null keeps it, "" removes it."""
    new = {**SUPERVISION_DEFAULTS, **current, **{k: v for k, v in body.items() if k != "password"}}
    if body.get("password") is not None:
        new["password"] = body["password"]
    new["url"], new["identity"] = new["url"].strip(), new["identity"].strip()
    errors: list[str] = []
    if new["url"]:
        parts = urlsplit(new["url"])
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            errors.append("url: a ws:// or wss:// URL with a host, e.g. wss://cpo.example.com/ocpp")
    elif new["enabled"]:
        errors.append("url: required to enable the link")
    if new["identity"] and not IDENTITY_RE.match(new["identity"]):
        errors.append("identity: 1-48 letters, digits or . _ : @ -")
    elif not new["identity"] and new["enabled"]:
        errors.append("identity: required to enable the link")
    profile = new["security_profile"]
    if profile == 3:
        errors.append("security_profile: profile 3 (client certificate) is not supported in this version")
    if profile >= 2 and new["url"] and not new["url"].startswith("wss://"):
        errors.append(f"url: security profile {profile} needs a wss:// URL")
    if new["password"] and not 16 <= len(new["password"]) <= 40:
        errors.append("password: 16 to 40 characters (OCPP authorization key)")
    if profile in (1, 2) and new["enabled"] and not new["password"]:
        errors.append(f"password: security profile {profile} needs a password")
    if errors:
        raise Problem(422, errors[0] if len(errors) == 1 else f"{len(errors)} problems: {errors[0]}", errors=errors)
    return new


def supervision_json(s: dict[str, Any]) -> dict[str, Any]:
    s = {**SUPERVISION_DEFAULTS, **s}
    return {"enabled": s["enabled"], "url": s["url"], "identity": s["identity"],
            "security_profile": s["security_profile"], "has_password": bool(s["password"]),
            "relay": RELAY_NOT_BUILT}
