// The tab's picture of the console, changed only by server messages (and local softphone
// facts). Every tab of an agent receives the same messages, so every tab shows the same thing.
import { setServerTime } from "./format.js";

const ENDED = "ended";

export function initialState(config) {
  return {
    config,
    connection: "connecting",
    viewer: null,
    agent: null,
    state: { state: "offline", reason: "", since: null, wrap_up_until: null },
    stateChoices: { labels: {}, reasons: [] },
    queues: [],
    interaction: null,
    pendingWrapUp: null,
    recent: [],
    notifications: [],
    callbacks: [],
    features: {},
    pending: {},
    controlError: "",
    sessionEnded: false,
  };
}

// An interaction the server reports as ended still waits for its wrap-up.
function placeInteraction(state, interaction) {
  if (interaction && interaction.status === ENDED) {
    state.interaction = null;
    state.pendingWrapUp = interaction.wrap_up ? null : interaction;
  } else {
    state.interaction = interaction;
    if (interaction && state.pendingWrapUp && state.pendingWrapUp.call_id === interaction.call_id) {
      state.pendingWrapUp = null;
    }
  }
}

function isOwnLeg(state, message) {
  const interaction = state.interaction;
  if (!interaction || interaction.call_id !== message.call_id) return false;
  return !interaction.agent_leg_uuid || interaction.agent_leg_uuid === message.leg_uuid;
}

function newInteraction(callId, status, extra = {}) {
  return {
    call_id: callId,
    status,
    agent_leg_uuid: null,
    customer_leg_uuid: null,
    consult_leg_uuid: null,
    held: false,
    answered_at: null,
    screen_pop: null,
    wrap_up: null,
    offered_at: null,
    ...extra,
  };
}

// Apply one server message; return what the caller should do next:
// { sections: callId } to (re)load the screen-pop sections, { refresh: true } to ask the server
// for the interaction again (its legs changed in a way events alone do not show).
export function apply(state, message) {
  const effects = {};
  switch (message.type) {
    case "snapshot": {
      setServerTime(message.server_time);
      state.viewer = message.viewer;
      state.agent = message.agent;
      state.state = message.state;
      state.stateChoices = message.state_choices;
      state.queues = message.queues;
      state.recent = message.recent;
      state.notifications = message.notifications;
      state.callbacks = message.callbacks;
      state.features = message.features;
      state.pending = {};
      placeInteraction(state, message.interaction);
      if (state.interaction && state.interaction.screen_pop) {
        effects.sections = state.interaction.call_id;
      }
      break;
    }
    case "interaction": {
      placeInteraction(state, message.interaction);
      if (message.recent) state.recent = message.recent;
      break;
    }
    case "state.changed": {
      const current = state.state;
      if (!current.since || !message.since || message.since >= current.since) {
        state.state = {
          agent_id: message.agent_id,
          state: message.state,
          reason: message.reason || "",
          since: message.since,
          wrap_up_until: message.wrap_up_until || null,
        };
      }
      break;
    }
    case "call.offered": {
      const callId = message.telephony_call_id;
      if (!state.interaction || state.interaction.call_id !== callId) {
        state.interaction = newInteraction(callId, "offered", {
          offered_at: message.offered_at,
          offered_number: message.caller_number,
        });
      }
      break;
    }
    case "screen_pop": {
      const callId = message.call.id;
      if (!state.interaction || state.interaction.call_id !== callId) {
        state.interaction = newInteraction(callId, message.phase === "answer" ? "talking" : "ringing");
      }
      const interaction = state.interaction;
      if (message.leg_uuid && message.phase !== "update") interaction.agent_leg_uuid = message.leg_uuid;
      if (message.phase === "answer" && interaction.status !== "held") {
        interaction.status = interaction.status === "consulting" ? "consulting" : "talking";
        interaction.answered_at = interaction.answered_at || message.call.answered_at || message.event_at;
      } else if (message.phase === "offer" && interaction.status === "offered") {
        interaction.status = "ringing";
      }
      interaction.screen_pop = {
        call: message.call,
        customer: message.customer,
        queue: message.queue,
        ivr: message.ivr,
      };
      effects.sections = callId;
      break;
    }
    case "call.ringing": {
      if (!["agent", "consult"].includes(message.leg_role)) break;
      if (!state.interaction || state.interaction.call_id !== message.call_id) {
        state.interaction = newInteraction(message.call_id, "ringing");
      } else if (state.interaction.status === "offered") {
        state.interaction.status = "ringing";
      }
      state.interaction.agent_leg_uuid = message.leg_uuid;
      break;
    }
    case "call.answered": {
      if (!isOwnLeg(state, message)) break;
      state.interaction.agent_leg_uuid = message.leg_uuid;
      state.interaction.status = state.interaction.held ? "held" : "talking";
      state.interaction.answered_at = state.interaction.answered_at || message.occurred_at;
      effects.refresh = true;
      break;
    }
    case "call.held":
    case "call.unheld": {
      if (!isOwnLeg(state, message)) break;
      const held = message.type === "call.held";
      state.interaction.held = held;
      if (state.interaction.status !== "consulting" || held) {
        state.interaction.status = held ? "held" : "talking";
      }
      effects.refresh = !held;
      break;
    }
    case "call.bridged":
    case "call.unbridged": {
      if (state.interaction && state.interaction.call_id === message.call_id) effects.refresh = true;
      break;
    }
    case "call.ended": {
      if (!isOwnLeg(state, message)) break;
      const interaction = state.interaction;
      state.interaction = null;
      if (interaction.answered_at && !interaction.wrap_up) {
        state.pendingWrapUp = { ...interaction, status: ENDED };
      }
      effects.refresh = true;
      break;
    }
    case "control.succeeded":
    case "control.failed": {
      if (state.pending[message.action] === message.request_id) delete state.pending[message.action];
      if (message.type === "control.failed") state.controlError = message.reason;
      effects.refresh = true;
      break;
    }
    case "queue.stats": {
      const queue = state.queues.find((item) => item.id === message.queue_id);
      if (queue && (!queue.as_of || !message.as_of || message.as_of >= queue.as_of)) {
        Object.assign(queue, {
          waiting: message.waiting,
          oldest_enqueued_at: message.oldest_enqueued_at,
          longest_wait_seconds: message.longest_wait_seconds,
          as_of: message.as_of,
        });
      }
      break;
    }
    case "notification": {
      if (!state.notifications.some((item) => item.id === message.id)) {
        state.notifications.unshift(message);
      }
      const callback = message.kind === "callback_due" && message.data && message.data.callback;
      if (callback) {
        state.callbacks = state.callbacks.filter((item) => item.id !== callback.id);
        state.callbacks.push(callback);
        state.callbacks.sort((a, b) => (a.due_at < b.due_at ? -1 : 1));
      }
      break;
    }
    case "notification.read": {
      const ids = new Set(message.ids);
      state.notifications = state.notifications.filter((item) => !ids.has(item.id));
      break;
    }
    case "ticket.assigned":
    case "ticket.created":
    case "ticket.escalated": {
      state.notifications.unshift({
        id: `${message.type}:${message.ticket_id}:${Date.now()}`,
        kind: message.type,
        message: `${message.reference} ${message.subject}`,
        data: message,
        created_at: new Date().toISOString(),
        transient: true,
      });
      break;
    }
    case "wrap_up.saved": {
      if (state.pendingWrapUp && state.pendingWrapUp.call_id === message.call_id) {
        state.pendingWrapUp = null;
      }
      if (state.interaction && state.interaction.call_id === message.call_id) {
        state.interaction.wrap_up = message.wrap_up;
      }
      const recent = state.recent.find((item) => item.call_id === message.call_id);
      if (recent) {
        recent.wrapped_up = true;
        recent.disposition = message.wrap_up && message.wrap_up.disposition
          ? message.wrap_up.disposition.label : "";
      }
      if (message.callback && !state.callbacks.some((item) => item.id === message.callback.id)) {
        state.callbacks.push(message.callback);
        state.callbacks.sort((a, b) => (a.due_at < b.due_at ? -1 : 1));
      }
      break;
    }
    case "callback.changed": {
      const callback = message.callback;
      state.callbacks = state.callbacks.filter((item) => item.id !== callback.id);
      if (["scheduled", "due"].includes(callback.status)) state.callbacks.push(callback);
      break;
    }
    case "session.closed": {
      state.sessionEnded = true;
      break;
    }
    default:
      break;
  }
  return effects;
}
