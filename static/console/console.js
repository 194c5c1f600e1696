// The agent console: wires the socket, the store, the screen and the softphone together.
import { Api, requestId } from "./api.js";
import { toLocalInput } from "./format.js";
import { _ } from "./i18n.js";
import { ConsoleSocket } from "./socket.js";
import { Softphone } from "./softphone.js";
import { apply, initialState } from "./store.js";
import {
  byTestId,
  el,
  renderAgentState,
  renderCallbacks,
  renderConnection,
  renderInteraction,
  renderNotifications,
  renderPhone,
  renderQueues,
  renderRecent,
  renderSection,
  tick,
} from "./ui.js";

const SECTIONS = ["history", "tickets", "articles"];
const PENDING_TIMEOUT_MS = 30000;
const REVEAL_SECONDS = 30;

const root = document.getElementById("console");
const config = JSON.parse(document.getElementById("console-config").textContent);
const state = initialState(config);
const api = new Api(config.apiBase, { agentId: config.agentId, viewing: config.viewing });
const socket = new ConsoleSocket(config.socketPath, { meUrl: config.meUrl });
const sections = { callId: null, data: {} };
const csrf = document.querySelector('meta[name="csrf-token"]').content;

let phone = {
  status: config.viewing ? "off" : "desk",
  incoming: false,
  inCall: false,
  muted: false,
  quality: null,
};
let softphone = null;

function render() {
  renderConnection(root, state);
  renderAgentState(root, state);
  renderQueues(root, state);
  renderNotifications(root, state);
  renderCallbacks(root, state);
  renderRecent(root, state);
  renderInteraction(root, state, phone);
  renderPhone(root, phone);
  syncWrapUpForm();
  tick(root);
}

// ------------------------------------------------------------------ server messages

socket.addEventListener("status", (event) => {
  state.connection = event.detail;
  if (event.detail === "ended") state.sessionEnded = true;
  render();
});

socket.addEventListener("message", (event) => {
  const effects = apply(state, event.detail);
  render();
  if (effects.sections) loadSections(effects.sections);
  if (effects.refresh) socket.send({ type: "interaction.refresh" });
});

// ------------------------------------------------------------------ screen-pop sections

function loadSections(callId) {
  const fresh = sections.callId !== callId;
  sections.callId = callId;
  for (const name of SECTIONS) {
    if (fresh || !sections.data[name]) {
      sections.data[name] = { state: "loading", available: true, items: [] };
      renderSection(root, name, sections.data[name]);
    }
    api.get(`calls/${callId}/screen-pop/${name}/`).then(
      (body) => {
        if (sections.callId !== callId) return;
        sections.data[name] = { state: "ready", ...body };
        renderSection(root, name, sections.data[name]);
        if (name === "tickets") fillTicketLinks();
      },
      () => {
        if (sections.callId !== callId) return;
        sections.data[name] = { state: "error", available: true, items: [] };
        renderSection(root, name, sections.data[name]);
      },
    );
  }
}

// ------------------------------------------------------------------ call controls

async function control(action, extra = {}) {
  const interaction = state.interaction;
  if (!interaction) return;
  const id = requestId();
  state.pending[action] = id;
  state.controlError = "";
  render();
  setTimeout(() => {
    if (state.pending[action] === id) {
      delete state.pending[action];
      render();
    }
  }, PENDING_TIMEOUT_MS);
  try {
    await api.post(`calls/${interaction.call_id}/controls/`, {
      action,
      request_id: id,
      ...extra,
    });
  } catch (error) {
    if (state.pending[action] === id) delete state.pending[action];
    state.controlError = error.message;
    render();
  }
}

function hangup() {
  const interaction = state.interaction;
  if (!interaction) return;
  if (softphone && phone.incoming && interaction.status !== "talking") {
    softphone.reject();
    return;
  }
  control("hangup");
}

async function loadTransferTargets() {
  const form = byTestId(root, "transfer-form");
  const targets = await api.get("transfer-targets/");
  form.elements.agent.replaceChildren(
    ...targets.agents.map((agent) => el("option", { value: agent.id, dataState: agent.state },
      `${agent.name} (${agent.extension}) — ${state.stateChoices.labels[agent.state] || agent.state}`)),
  );
  form.elements.queue.replaceChildren(
    ...targets.queues.map((queue) => el("option", { value: queue.slug, text: queue.name })),
  );
}

function transferKindChanged() {
  const form = byTestId(root, "transfer-form");
  const kind = form.elements.kind.value;
  form.elements.agent.classList.toggle("hidden", kind !== "agent");
  form.elements.queue.classList.toggle("hidden", kind !== "queue");
  form.elements.number.classList.toggle("hidden", kind !== "external");
}

function submitTransfer(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const kind = form.elements.kind.value;
  const target = { kind };
  if (kind === "agent") target.agent_id = Number(form.elements.agent.value);
  if (kind === "queue") target.queue = form.elements.queue.value;
  if (kind === "external") target.number = form.elements.number.value.trim();
  control(form.elements.mode.value, { target });
  form.classList.add("hidden");
}

function submitDtmf(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const digits = form.elements.digits.value.trim();
  if (!digits) return;
  control("dtmf", { digits });
  form.elements.digits.value = "";
}

async function reveal(button) {
  const pop = (state.interaction || state.pendingWrapUp || {}).screen_pop;
  if (!pop || !pop.customer) return;
  const field = button.dataset.field;
  const target = byTestId(root, `sensitive-${field}`);
  const masked = target.textContent;
  try {
    const body = await api.post(`/api/v1/customers/${pop.customer.id}/reveal/`, { field });
    target.textContent = body.value;
    target.dataset.revealed = "true";
    setTimeout(() => {
      target.textContent = masked;
      delete target.dataset.revealed;
    }, REVEAL_SECONDS * 1000);
  } catch (error) {
    state.controlError = error.message;
    render();
  }
}

// ------------------------------------------------------------------ unknown caller

async function createCustomer(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const interaction = state.interaction || state.pendingWrapUp;
  if (!interaction) return;
  try {
    await api.post(`calls/${interaction.call_id}/customer/`, {
      mode: "create",
      name: form.elements.name.value.trim(),
      company: form.elements.company.value.trim(),
      language: form.elements.language.value,
    });
    form.reset();
  } catch (error) {
    state.controlError = error.message;
    render();
  }
}

async function linkCustomer() {
  const form = byTestId(root, "unknown-caller");
  const interaction = state.interaction || state.pendingWrapUp;
  const customerId = Number(form.elements.customer_id.value);
  if (!interaction || !customerId) return;
  try {
    await api.post(`calls/${interaction.call_id}/customer/`, { mode: "link", customer_id: customerId });
    form.reset();
  } catch (error) {
    state.controlError = error.message;
    render();
  }
}

// ------------------------------------------------------------------ wrap-up

function syncWrapUpForm() {
  const form = byTestId(root, "wrap-up-form");
  const pending = state.pendingWrapUp;
  const visible = Boolean(pending) && Boolean(state.viewer && state.viewer.can_control);
  form.classList.toggle("hidden", !visible);
  if (!visible) {
    form.dataset.callId = "";
    return;
  }
  if (form.dataset.callId === String(pending.call_id)) return;
  form.dataset.callId = String(pending.call_id);
  form.dataset.ready = "false";
  form.reset();
  form.elements.disposition.replaceChildren();
  showTicketFields();
  byTestId(root, "wrap-up-error").classList.add("hidden");
  api.get(`calls/${pending.call_id}/wrap-up/`).then((body) => {
    if (form.dataset.callId !== String(pending.call_id)) return;
    const select = form.elements.disposition;
    select.replaceChildren(
      el("option", { value: "", text: body.dispositions.length ? _("Choose…") : _("No disposition") }),
      ...body.dispositions.map((code) => el("option", { value: code.id, dataCode: code.code, text: code.label })),
    );
    const pop = pending.screen_pop;
    const who = pop && pop.customer ? pop.customer.name : body.prefill.number;
    form.elements.ticket_subject.value = who ? `${_("Call from")} ${who}` : "";
    form.elements.callback_number.value = body.prefill.number || "";
    const later = new Date(Date.now() + 60 * 60 * 1000);
    form.elements.callback_at.value = toLocalInput(later);
    form.dataset.ready = "true";
  });
  if (sections.callId !== pending.call_id && pending.screen_pop) loadSections(pending.call_id);
  fillTicketLinks();
}

function fillTicketLinks() {
  const form = byTestId(root, "wrap-up-form");
  const tickets = sections.data.tickets;
  const items = tickets && tickets.state === "ready" && tickets.available ? tickets.items : [];
  form.elements.ticket_id.replaceChildren(
    ...items.map((ticket) => el("option", { value: ticket.id, text: `${ticket.reference} ${ticket.subject}` })),
  );
}

function showTicketFields() {
  const form = byTestId(root, "wrap-up-form");
  const mode = form.elements.ticket_mode.value;
  form.querySelector(".ticket-create").classList.toggle("hidden", mode !== "create");
  form.querySelector(".ticket-link").classList.toggle("hidden", mode !== "link");
  form.querySelector(".callback-fields").classList.toggle("hidden", !form.elements.callback.checked);
}

async function submitWrapUp(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const pending = state.pendingWrapUp;
  if (!pending) return;
  const error = byTestId(root, "wrap-up-error");
  const data = {
    disposition: form.elements.disposition.value ? Number(form.elements.disposition.value) : null,
    notes: form.elements.notes.value,
    ready: true,
  };
  const mode = form.elements.ticket_mode.value;
  if (mode === "create") {
    data.ticket = {
      subject: form.elements.ticket_subject.value,
      description: form.elements.ticket_description.value,
      priority: form.elements.ticket_priority.value,
    };
  } else if (mode === "link" && form.elements.ticket_id.value) {
    data.ticket = { ticket_id: Number(form.elements.ticket_id.value) };
  }
  if (form.elements.callback.checked && form.elements.callback_at.value) {
    data.callback = {
      due_at: new Date(form.elements.callback_at.value).toISOString(),
      number: form.elements.callback_number.value,
    };
  }
  const button = byTestId(root, "wrap-up-submit");
  button.disabled = true;
  try {
    await api.post(`calls/${pending.call_id}/wrap-up/`, data);
    error.classList.add("hidden");
  } catch (failure) {
    const fields = Object.values(failure.fields || {}).flat();
    error.textContent = fields.length ? fields.join(" ") : failure.message;
    error.classList.remove("hidden");
  } finally {
    button.disabled = false;
  }
}

async function wrapUpRecentCall(callId) {
  const pop = await api.get(`calls/${callId}/screen-pop/`);
  state.pendingWrapUp = { call_id: callId, status: "ended", screen_pop: pop, wrap_up: null };
  render();
}

// ------------------------------------------------------------------ agent state

async function changeState(event) {
  const value = event.currentTarget.value;
  event.currentTarget.value = "";
  if (!value) return;
  const [stateName, reason] = value.split(":");
  try {
    await api.post("state/", { state: stateName, reason: reason || "" });
    state.controlError = "";
  } catch (error) {
    state.controlError = error.message;
  }
  render();
}

// ------------------------------------------------------------------ softphone

async function fillDevices() {
  if (!softphone) return;
  const { inputs, outputs } = await softphone.devices();
  const fill = (select, devices, current) => {
    select.replaceChildren(
      el("option", { value: "", text: _("Default") }),
      ...devices.map((device, index) => el("option", {
        value: device.deviceId,
        selected: device.deviceId === current,
        text: device.label || `${_("Device")} ${index + 1}`,
      })),
    );
  };
  fill(byTestId(root, "input-device"), inputs, softphone.inputDeviceId);
  fill(byTestId(root, "output-device"), outputs, softphone.outputDeviceId);
}

function startSoftphone() {
  if (!config.softphone.enabled) return;
  softphone = new Softphone({
    credentialsUrl: config.softphone.credentialsUrl,
    agentId: config.agentId,
    csrf,
    audio: byTestId(root, "remote-audio"),
  });
  softphone.addEventListener("change", (event) => {
    phone = { ...event.detail };
    render();
  });
  byTestId(root, "input-device").addEventListener("change", (event) => softphone.setInput(event.target.value));
  byTestId(root, "output-device").addEventListener("change", (event) => softphone.setOutput(event.target.value));
  root.querySelector("details.devices").addEventListener("toggle", fillDevices);
  softphone.start();
}

// ------------------------------------------------------------------ clicks and forms

root.addEventListener("click", (event) => {
  const button = event.target.closest("[data-action]");
  if (!button || !root.contains(button)) return;
  const action = button.dataset.action;
  switch (action) {
    case "answer":
      if (softphone) softphone.answer();
      break;
    case "mute":
    case "unmute":
      if (softphone) softphone.mute(action === "mute");
      break;
    case "hangup":
      hangup();
      break;
    case "phone-hangup":
      if (softphone) softphone.hangup();
      break;
    case "hold":
    case "unhold":
    case "consult_complete":
    case "consult_cancel":
      control(action);
      break;
    case "show-transfer": {
      const form = byTestId(root, "transfer-form");
      form.classList.toggle("hidden");
      if (!form.classList.contains("hidden")) loadTransferTargets();
      break;
    }
    case "hide-transfer":
      byTestId(root, "transfer-form").classList.add("hidden");
      break;
    case "show-dtmf":
      byTestId(root, "dtmf-form").classList.toggle("hidden");
      break;
    case "reveal":
      reveal(button);
      break;
    case "link-customer":
      linkCustomer();
      break;
    case "read-notification": {
      const id = button.dataset.id;
      if (/^\d+$/.test(id)) socket.send({ type: "notification.read", ids: [Number(id)] });
      else {
        state.notifications = state.notifications.filter((item) => String(item.id) !== id);
        render();
      }
      break;
    }
    case "callback-done":
    case "callback-cancel":
      api.patch(`callbacks/${button.dataset.id}/`, {
        status: action === "callback-done" ? "done" : "cancelled",
      }).catch((error) => {
        state.controlError = error.message;
        render();
      });
      break;
    case "wrap-up-call":
      wrapUpRecentCall(Number(button.dataset.callId));
      break;
    case "wrap-up-extend":
      api.post("wrap-up/extend/", { seconds: 60 }).catch((error) => {
        state.controlError = error.message;
        render();
      });
      break;
    default:
      break;
  }
});

byTestId(root, "transfer-form").addEventListener("submit", submitTransfer);
byTestId(root, "transfer-kind").addEventListener("change", transferKindChanged);
byTestId(root, "dtmf-form").addEventListener("submit", submitDtmf);
byTestId(root, "unknown-caller").addEventListener("submit", createCustomer);
const wrapUpForm = byTestId(root, "wrap-up-form");
wrapUpForm.addEventListener("submit", submitWrapUp);
wrapUpForm.addEventListener("change", showTicketFields);
byTestId(root, "state-select").addEventListener("change", changeState);

setInterval(() => tick(root), 1000);
render();
socket.start();
startSoftphone();
