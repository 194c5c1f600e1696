// Rendering: the template holds the structure and the forms (typed input is never re-rendered);
// these functions fill in lists and labels and show or hide what the state says.
import { dateTime, duration, secondsSince, secondsUntil } from "./format.js";
import { _, fmt } from "./i18n.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data")) node.setAttribute(key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function byTestId(root, id) {
  return root.querySelector(`[data-testid="${id}"]`);
}

function show(node, visible) {
  if (node) node.classList.toggle("hidden", !visible);
}

const STATUS_LABELS = () => ({
  offered: _("Incoming call"),
  ringing: _("Ringing"),
  talking: _("Connected"),
  held: _("On hold"),
  consulting: _("Consulting"),
  ended: _("Ended"),
});

export function renderConnection(root, state) {
  const labels = {
    connecting: _("Connecting…"),
    open: _("Connected"),
    reconnecting: _("Reconnecting…"),
    ended: _("Disconnected"),
  };
  root.dataset.connection = state.connection;
  byTestId(root, "connection-status").textContent = labels[state.connection] || state.connection;
  show(byTestId(root, "session-ended"), state.sessionEnded);
}

export function renderAgentState(root, state) {
  const current = state.state;
  const pill = byTestId(root, "agent-state");
  pill.dataset.state = current.state;
  pill.textContent = state.stateChoices.labels[current.state] || current.state;
  const reason = state.stateChoices.reasons.find((item) => item.value === current.reason);
  byTestId(root, "state-reason").textContent = reason ? reason.label : current.reason || "";
  byTestId(root, "state-timer").dataset.since = current.since || "";
  const countdown = byTestId(root, "wrap-up-countdown");
  countdown.dataset.until = current.state === "wrap_up" && current.wrap_up_until
    ? current.wrap_up_until : "";
  show(countdown, Boolean(countdown.dataset.until));
  show(byTestId(root, "wrap-up-extend"),
    current.state === "wrap_up" && state.features.wrap_up_extend && canControl(state));
  const reasons = root.querySelector("#state-reasons");
  if (reasons.childElementCount !== state.stateChoices.reasons.length) {
    reasons.replaceChildren(
      ...state.stateChoices.reasons.map((item) => el("option", { value: `not_ready:${item.value}`, text: item.label })),
    );
  }
  byTestId(root, "state-select").disabled = !state.features.state_change || !canControl(state);
}

export function renderQueues(root, state) {
  const body = byTestId(root, "queues").querySelector("tbody");
  body.replaceChildren(
    ...state.queues.map((queue) => el(
      "tr",
      { dataQueueId: queue.id, dataTestid: `queue-${queue.slug}` },
      el("td", { text: queue.name }),
      el("td", { class: "num", dataTestid: "queue-waiting", text: queue.waiting }),
      el("td", { class: "num timer", dataTestid: "queue-longest", dataSince: queue.waiting ? queue.oldest_enqueued_at || "" : "" },
        queue.waiting ? duration(queue.longest_wait_seconds) : "—"),
    )),
  );
}

export function renderNotifications(root, state) {
  const list = byTestId(root, "notifications");
  list.replaceChildren(
    ...state.notifications.map((item) => el(
      "li",
      { dataKind: item.kind, dataId: item.id },
      el("span", { class: "message", text: item.message }),
      el("time", { class: "muted", text: dateTime(item.created_at) }),
      el("button", { type: "button", class: "link", dataAction: "read-notification", dataId: item.id }, _("Dismiss")),
    )),
  );
  byTestId(root, "notification-count").textContent = state.notifications.length ? `(${state.notifications.length})` : "";
}

export function renderCallbacks(root, state) {
  const list = byTestId(root, "callbacks");
  list.replaceChildren(
    ...state.callbacks.map((item) => el(
      "li",
      { dataStatus: item.status, dataTestid: `callback-${item.id}` },
      el("strong", { text: item.number }),
      " ",
      el("time", { text: dateTime(item.due_at) }),
      item.status === "due" ? el("span", { class: "badge due", text: _("Due") }) : null,
      item.notes ? el("p", { class: "muted", text: item.notes }) : null,
      el("button", { type: "button", class: "link", dataAction: "callback-done", dataId: item.id }, _("Done")),
      el("button", { type: "button", class: "link", dataAction: "callback-cancel", dataId: item.id }, _("Cancel")),
    )),
  );
}

export function renderRecent(root, state) {
  const list = byTestId(root, "recent");
  list.replaceChildren(
    ...state.recent.map((item) => el(
      "li",
      { dataCallId: item.call_id, dataTestid: `recent-${item.call_id}` },
      el("span", { class: "who", text: item.customer_name || item.number || _("Unknown caller") }),
      el("time", { class: "muted", text: dateTime(item.started_at) }),
      item.talk_seconds !== null ? el("span", { class: "muted", text: duration(item.talk_seconds) }) : null,
      item.disposition ? el("span", { class: "badge", text: item.disposition }) : null,
      !item.wrapped_up && item.answered_at
        ? el("button", { type: "button", class: "link", dataAction: "wrap-up-call", dataCallId: item.call_id }, _("Wrap up"))
        : null,
    )),
  );
}

export function canControl(state) {
  return Boolean(state.viewer && state.viewer.can_control);
}

export function renderInteraction(root, state, phone) {
  const interaction = state.interaction;
  const panel = byTestId(root, "interaction");
  panel.dataset.status = interaction ? interaction.status : "idle";
  panel.dataset.callId = interaction ? interaction.call_id : "";
  show(byTestId(root, "idle-message"), !interaction && !state.pendingWrapUp);
  show(byTestId(root, "call"), Boolean(interaction));
  const shown = interaction || state.pendingWrapUp;
  show(byTestId(root, "screen-pop"), Boolean(shown && shown.screen_pop));
  if (interaction) renderCall(root, state, interaction, phone);
  if (shown && shown.screen_pop) renderScreenPop(root, state, shown.screen_pop);
  const error = byTestId(root, "control-error");
  error.textContent = state.controlError;
  show(error, Boolean(state.controlError));
  show(byTestId(root, "incoming-call"), Boolean(phone.incoming));
  if (phone.incoming && !interaction) {
    byTestId(root, "incoming-number").textContent = phone.remoteNumber || "";
  }
}

function renderCall(root, state, interaction, phone) {
  const pop = interaction.screen_pop;
  const number = pop ? pop.call.number : interaction.offered_number || "";
  byTestId(root, "call-status").textContent = STATUS_LABELS()[interaction.status] || interaction.status;
  byTestId(root, "call-number").textContent = number;
  byTestId(root, "incoming-number").textContent = number;
  byTestId(root, "call-queue").textContent = pop && pop.queue ? pop.queue.name : "";
  byTestId(root, "call-timer").dataset.since = interaction.answered_at || interaction.offered_at || "";
  const status = interaction.status;
  const control = canControl(state);
  const answered = ["talking", "held", "consulting"].includes(status);
  const visible = {
    answer: phone.incoming && ["offered", "ringing"].includes(status),
    hangup: control && ["ringing", "talking", "held"].includes(status),
    hold: control && ["talking", "consulting"].includes(status) && !interaction.held,
    unhold: control && interaction.held,
    mute: phone.inCall && !phone.muted,
    unmute: phone.inCall && phone.muted,
    "show-transfer": control && status === "talking",
    consult_complete: control && status === "consulting",
    consult_cancel: control && status === "consulting",
    "show-dtmf": control && answered,
  };
  for (const button of byTestId(root, "controls").querySelectorAll("button[data-action]")) {
    const action = button.dataset.action;
    show(button, Boolean(visible[action]));
    button.disabled = Boolean(state.pending[action]);
  }
  if (!visible["show-transfer"]) show(byTestId(root, "transfer-form"), false);
  if (!visible["show-dtmf"]) show(byTestId(root, "dtmf-form"), false);
}

function renderScreenPop(root, state, pop) {
  const customer = pop.customer;
  show(byTestId(root, "customer-card"), Boolean(customer));
  show(byTestId(root, "unknown-caller"), !customer && Boolean(pop.call.number_e164) && canControl(state));
  if (customer) {
    byTestId(root, "customer-name").textContent = customer.name;
    const vip = byTestId(root, "customer-vip");
    vip.textContent = customer.vip_tier_label;
    vip.dataset.tier = customer.vip_tier;
    byTestId(root, "customer-language").textContent = customer.language_label || "";
    byTestId(root, "customer-company").textContent = customer.company || "";
    byTestId(root, "customer-tags").replaceChildren(
      ...customer.tags.map((tag) => el("li", { class: "tag", text: tag })),
    );
    const sensitive = byTestId(root, "customer-sensitive");
    if (sensitive.dataset.customerId !== String(customer.id)) {
      sensitive.dataset.customerId = String(customer.id);
      sensitive.replaceChildren(
        ...customer.sensitive.flatMap((item) => [
          el("dt", { text: item.label }),
          el("dd", {},
            el("span", { class: "value", dataTestid: `sensitive-${item.field}`, text: item.masked }),
            state.viewer && state.viewer.can_reveal
              ? el("button", { type: "button", class: "link", dataAction: "reveal", dataField: item.field,
                  dataTestid: `reveal-${item.field}` }, _("Reveal"))
              : null),
        ]),
      );
    }
  }
  const ivr = pop.ivr;
  show(byTestId(root, "ivr"), Boolean(ivr));
  if (ivr) {
    byTestId(root, "ivr-steps").replaceChildren(
      ...ivr.steps.filter((step) => step.event !== "enter" || step.label)
        .map((step) => el("li", { dataEvent: step.event },
          el("span", { text: step.label }), " ",
          el("span", { class: "muted", text: step.event_label }),
          step.detail ? el("span", { class: "detail", text: ` ${step.detail}` }) : null)),
    );
    byTestId(root, "ivr-inputs").textContent = ivr.inputs.length
      ? fmt(_("Entered: %(inputs)s"), { inputs: ivr.inputs.map((item) => item.value).join(" · ") })
      : "";
  }
}

const SECTION_RENDERERS = {
  history: (item) => el("li", { dataChannel: item.channel },
    el("span", { class: "badge", text: item.channel_label }), " ",
    el("time", { class: "muted", text: dateTime(item.occurred_at) }), " ",
    el("span", { text: item.summary || item.direction_label }),
    item.agent ? el("span", { class: "muted", text: ` — ${item.agent}` }) : null),
  tickets: (item) => el("li", { dataTicketId: item.id },
    el("strong", { text: item.reference }), " ",
    el("span", { text: item.subject }), " ",
    el("span", { class: "badge", dataStatus: item.status, text: item.status_label }), " ",
    el("span", { class: "muted", text: item.priority_label })),
  articles: (item) => el("li", { dataArticleId: item.id },
    el("strong", { text: item.title }),
    item.summary ? el("p", { class: "muted", text: item.summary }) : null),
};

export function renderSection(root, name, section) {
  const list = root.querySelector(`[data-section="${name}"]`);
  const card = list.closest(".card");
  card.dataset.state = section.state;
  if (section.state === "loading") {
    list.replaceChildren(el("li", { class: "muted", text: _("Loading…") }));
  } else if (section.state === "error") {
    list.replaceChildren(el("li", { class: "error", text: _("Could not load this part.") }));
  } else if (!section.available) {
    list.replaceChildren(el("li", { class: "muted", text: _("Not available yet.") }));
  } else if (!section.items.length) {
    list.replaceChildren(el("li", { class: "muted", text: _("Nothing to show.") }));
  } else {
    list.replaceChildren(...section.items.map(SECTION_RENDERERS[name]));
  }
}

export function renderPhone(root, phone) {
  const panel = byTestId(root, "softphone-panel");
  panel.dataset.call = phone.incoming ? "incoming" : phone.inCall ? "in-call" : "idle";
  panel.dataset.muted = phone.muted ? "true" : "false";
  show(byTestId(root, "phone-call"), Boolean(phone.inCall));
  show(byTestId(root, "phone-mute"), Boolean(phone.inCall && !phone.muted));
  show(byTestId(root, "phone-unmute"), Boolean(phone.inCall && phone.muted));
  const status = byTestId(root, "softphone-status");
  const labels = {
    off: _("Softphone off"),
    desk: _("Desk phone"),
    "other-tab": _("Softphone active in another tab"),
    connecting: _("Softphone connecting…"),
    registered: _("Softphone ready"),
    unregistered: _("Softphone not registered"),
    failed: _("Softphone failed"),
  };
  status.dataset.status = phone.status;
  status.textContent = labels[phone.status] || phone.status;
  const quality = byTestId(root, "call-quality");
  show(quality, Boolean(phone.inCall && phone.quality));
  if (phone.quality) {
    quality.dataset.level = phone.quality.level;
    const levels = { good: _("Good line"), fair: _("Fair line"), poor: _("Poor line") };
    quality.textContent = `${levels[phone.quality.level]} · ${fmt(_("loss %(loss)s%%, jitter %(jitter)s ms, RTT %(rtt)s ms"), {
      loss: phone.quality.lossPct.toFixed(1), jitter: Math.round(phone.quality.jitterMs), rtt: Math.round(phone.quality.rttMs),
    })}`;
  }
}

export function tick(root) {
  for (const node of root.querySelectorAll(".timer[data-since]")) {
    if (node.dataset.since) node.textContent = duration(secondsSince(node.dataset.since));
    else node.textContent = node.dataset.testid === "queue-longest" ? "—" : "";
  }
  const countdown = byTestId(root, "wrap-up-countdown");
  if (countdown.dataset.until) {
    countdown.textContent = fmt(_("Wrap-up: %(time)s left"), {
      time: duration(secondsUntil(countdown.dataset.until)),
    });
  }
}
