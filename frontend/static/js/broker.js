// The broker page: MQTT over WebSocket from the browser, with short-lived credentials from the login session.
"use strict";

const RECONNECT_MS = 5000;

function csrfHeaders() {
  return JSON.parse(document.body.getAttribute("hx-headers") || "{}");
}

function show(topic, payload, retained) {
  const slot = document.querySelector(`[data-topic="${CSS.escape(topic)}"]`);
  if (!slot) return;
  let text = payload.toString();
  try { text = JSON.stringify(JSON.parse(text), null, 2); } catch (err) { /* not JSON: show as sent */ }
  slot.querySelector("pre").textContent = text;
  slot.dataset.retained = String(retained);
  slot.querySelector(".received").textContent =
    `${retained ? "retained message" : "live message"}, received ${new Date().toISOString()}`;
}

function setState(text) {
  const state = document.getElementById("broker-state");
  state.textContent = text;
  state.dataset.state = text;
}

async function connectBroker() {
  const page = document.getElementById("broker-page");
  setState("requesting credentials");
  const response = await fetch("/api/auth/mqtt-credentials", { method: "POST", headers: csrfHeaders() });
  if (!response.ok) {
    setState(`refused (${response.status})`);
    return;
  }
  const credentials = await response.json();
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const client = mqtt.connect(`${scheme}//${location.host}/mqtt`, {
    username: credentials.username,
    password: credentials.password,
    protocolVersion: 4, // the embedded broker speaks MQTT 3.1.1
    reconnectPeriod: 0, // credentials are short-lived: reconnect with fresh ones instead
    clean: true,
  });
  const topics = [...page.querySelectorAll("[data-topic]")].map((slot) => slot.dataset.topic);
  client.on("connect", () => {
    setState("connected");
    client.subscribe(topics, { qos: 1 });
  });
  client.on("message", (topic, payload, packet) => show(topic, payload, packet.retain));
  client.on("error", (err) => setState(`error: ${err.message}`));
  client.on("close", () => {
    setState("disconnected");
    setTimeout(connectBroker, RECONNECT_MS);
  });
}

document.addEventListener("DOMContentLoaded", connectBroker);
