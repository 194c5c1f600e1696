// The browser softphone: JsSIP (window.JsSIP, vendored) over WebSocket to FreeSWITCH, with the
// settings recorded against a real FreeSWITCH 1.10.12 in shared/fixtures/webrtc:
// session timers off (FreeSWITCH's Min-SE is 120 s, JsSIP's default 90 s gets a 422), no STUN or
// TURN (iceServers: []), Chromium's default bundle policy (FreeSWITCH's SDP has no BUNDLE group:
// "max-bundle" fails), a fixed contact with a .invalid host and transport=ws, and the early-ICE
// trick (send the 200 OK once the UDP host candidate exists; FreeSWITCH ignores TCP ones).
//
// Only one tab per agent runs the softphone (Web Locks); another tab takes over when it closes.
// Events: "change" (the public state changed).

const QUALITY_POLL_MS = 2000;
const PC_CONFIG = { iceServers: [], bundlePolicy: "balanced" };

export function qualityLevel({ lossPct, jitterMs, rttMs }) {
  if (lossPct > 5 || jitterMs > 50 || rttMs > 400) return "poor";
  if (lossPct > 1 || jitterMs > 30 || rttMs > 250) return "fair";
  return "good";
}

export class Softphone extends EventTarget {
  constructor({ credentialsUrl, agentId, csrf, audio }) {
    super();
    this.credentialsUrl = credentialsUrl;
    this.agentId = agentId;
    this.csrf = csrf;
    this.audio = audio;
    this.ua = null;
    this.session = null;
    this.inputDeviceId = localStorage.getItem("cc-softphone-input") || "";
    this.outputDeviceId = localStorage.getItem("cc-softphone-output") || "";
    this.qualityTimer = null;
    this.lastCounters = null;
    this.state = {
      status: "off",
      incoming: false,
      inCall: false,
      muted: false,
      quality: null,
      error: "",
      remoteNumber: "",
    };
  }

  set(changes) {
    Object.assign(this.state, changes);
    this.dispatchEvent(new CustomEvent("change", { detail: this.state }));
  }

  start() {
    if (!window.JsSIP) {
      this.set({ status: "failed", error: "JsSIP missing" });
      return;
    }
    const name = `cc-softphone-${this.agentId}`;
    if (!navigator.locks) {
      this.run();
      return;
    }
    navigator.locks.request(name, { ifAvailable: true }, (lock) => {
      if (lock) return this.holdWhileRunning();
      this.set({ status: "other-tab" });
      // Wait for the other tab to close, then take over.
      navigator.locks.request(name, () => this.holdWhileRunning());
      return undefined;
    });
  }

  holdWhileRunning() {
    this.run();
    return new Promise(() => {}); // keep the lock as long as the page lives
  }

  async run() {
    this.set({ status: "connecting" });
    let credentials;
    try {
      const response = await fetch(this.credentialsUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": this.csrf, Accept: "application/json" },
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      credentials = await response.json();
    } catch (error) {
      this.set({ status: "failed", error: String(error) });
      return;
    }
    const { JsSIP } = window;
    const extension = credentials.extension;
    this.ua = new JsSIP.UA({
      sockets: [new JsSIP.WebSocketInterface(credentials.wss_url)],
      uri: `sip:${extension}@${credentials.domain}`,
      authorization_user: extension,
      password: credentials.password,
      register: true,
      register_expires: 300,
      session_timers: false,
      contact_uri: `sip:${extension}@agent-${extension}.invalid;transport=ws`,
      user_agent: "cc-console JsSIP/3.13.8",
    });
    this.ua.on("registered", () => this.set({ status: "registered" }));
    this.ua.on("unregistered", () => this.set({ status: "unregistered" }));
    this.ua.on("registrationFailed", (event) => this.set({ status: "failed", error: event.cause }));
    this.ua.on("disconnected", () => {
      if (this.state.status === "registered") this.set({ status: "connecting" });
    });
    this.ua.on("newRTCSession", (event) => this.onSession(event));
    window.addEventListener("pagehide", () => this.stop());
    this.ua.start();
  }

  stop() {
    if (this.ua) this.ua.stop();
  }

  onSession({ originator, session }) {
    if (originator !== "remote") return;
    if (this.session) {
      session.terminate({ status_code: 486, reason_phrase: "Busy Here" });
      return;
    }
    this.session = session;
    session.on("icecandidate", (event) => {
      if (/ udp /i.test(event.candidate.candidate)) event.ready();
    });
    session.on("peerconnection", (event) => this.attachMedia(event.peerconnection));
    session.on("confirmed", () => {
      this.set({ incoming: false, inCall: true });
      this.startQuality();
    });
    const finish = () => {
      if (this.session !== session) return;
      this.session = null;
      this.stopQuality();
      this.set({ incoming: false, inCall: false, muted: false, quality: null });
    };
    session.on("ended", finish);
    session.on("failed", finish);
    const remote = session.remote_identity;
    this.set({
      incoming: true,
      remoteNumber: remote ? remote.display_name || remote.uri.user : "",
    });
  }

  attachMedia(peerconnection) {
    peerconnection.addEventListener("track", (event) => {
      if (event.streams && event.streams[0]) {
        this.audio.srcObject = event.streams[0];
        this.applyOutput();
      }
    });
  }

  answer() {
    if (!this.session || !this.state.incoming) return;
    const audio = this.inputDeviceId ? { deviceId: { exact: this.inputDeviceId } } : true;
    this.session.answer({ mediaConstraints: { audio, video: false }, pcConfig: PC_CONFIG });
  }

  reject() {
    if (this.session && this.state.incoming) this.session.terminate({ status_code: 486 });
  }

  hangup() {
    if (this.session) this.session.terminate();
  }

  mute(muted) {
    if (!this.session || !this.state.inCall) return;
    if (muted) this.session.mute({ audio: true });
    else this.session.unmute({ audio: true });
    this.set({ muted });
  }

  async devices() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) {
      return { inputs: [], outputs: [] };
    }
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      inputs: all.filter((device) => device.kind === "audioinput"),
      outputs: all.filter((device) => device.kind === "audiooutput"),
    };
  }

  async setInput(deviceId) {
    this.inputDeviceId = deviceId;
    localStorage.setItem("cc-softphone-input", deviceId);
    const connection = this.session && this.session.connection;
    if (!connection || !this.state.inCall) return;
    // Swap the microphone of the call in progress.
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: deviceId ? { deviceId: { exact: deviceId } } : true,
      video: false,
    });
    const [track] = stream.getAudioTracks();
    const sender = connection.getSenders().find((item) => item.track && item.track.kind === "audio");
    if (sender && track) await sender.replaceTrack(track);
  }

  async setOutput(deviceId) {
    this.outputDeviceId = deviceId;
    localStorage.setItem("cc-softphone-output", deviceId);
    await this.applyOutput();
  }

  async applyOutput() {
    if (this.outputDeviceId && typeof this.audio.setSinkId === "function") {
      try {
        await this.audio.setSinkId(this.outputDeviceId);
      } catch {
        // The device went away: the default output plays.
      }
    }
  }

  startQuality() {
    this.stopQuality();
    this.lastCounters = null;
    this.qualityTimer = setInterval(() => this.sampleQuality(), QUALITY_POLL_MS);
  }

  stopQuality() {
    clearInterval(this.qualityTimer);
    this.qualityTimer = null;
  }

  async sampleQuality() {
    const connection = this.session && this.session.connection;
    if (!connection) return;
    const report = await connection.getStats();
    let received = 0;
    let lost = 0;
    let jitter = 0;
    let rtt = 0;
    report.forEach((stat) => {
      if (stat.type === "inbound-rtp" && stat.kind === "audio") {
        received = stat.packetsReceived || 0;
        lost = stat.packetsLost || 0;
        jitter = stat.jitter || 0;
      }
      if (stat.type === "candidate-pair" && stat.nominated && stat.state === "succeeded") {
        rtt = stat.currentRoundTripTime || rtt;
      }
    });
    const previous = this.lastCounters || { received: 0, lost: 0 };
    this.lastCounters = { received, lost };
    const deltaReceived = received - previous.received;
    const deltaLost = Math.max(0, lost - previous.lost);
    const total = deltaReceived + deltaLost;
    const sample = {
      lossPct: total > 0 ? (100 * deltaLost) / total : 0,
      jitterMs: jitter * 1000,
      rttMs: rtt * 1000,
      packetsReceived: received,
    };
    this.set({ quality: { ...sample, level: qualityLevel(sample) } });
  }
}
