// The console's one WebSocket per tab: reconnects by itself with capped, jittered backoff; the
// server sends a full snapshot on every (re)connect, so a drop never leaves the tab out of date.
//
// Events: "status" (detail: "connecting" | "open" | "reconnecting" | "ended"),
//         "message" (detail: the decoded message).
export class ConsoleSocket extends EventTarget {
  constructor(path, { meUrl, minDelayMs = 500, maxDelayMs = 30000, idleTimeoutMs = 70000,
                      pingEveryMs = 25000 } = {}) {
    super();
    this.path = path;
    this.meUrl = meUrl;
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.idleTimeoutMs = idleTimeoutMs;
    this.pingEveryMs = pingEveryMs;
    this.attempt = 0;
    this.ws = null;
    this.ended = false;
    this.endedEmitted = false;
    this.retryTimer = null;
    this.pingTimer = null;
    this.lastMessageAt = 0;
    this.onOnline = () => this.reconnectNow();
    this.onVisible = () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    };
  }

  get url() {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${window.location.host}${this.path}`;
  }

  start() {
    window.addEventListener("online", this.onOnline);
    document.addEventListener("visibilitychange", this.onVisible);
    this.connect();
  }

  stop() {
    this.ended = true;
    window.removeEventListener("online", this.onOnline);
    document.removeEventListener("visibilitychange", this.onVisible);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  connect() {
    if (this.ended) return;
    clearTimeout(this.retryTimer);
    this.emit("status", this.attempt === 0 ? "connecting" : "reconnecting");
    let opened = false;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.addEventListener("open", () => {
      opened = true;
      this.attempt = 0;
      this.lastMessageAt = Date.now();
      this.emit("status", "open");
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.keepAlive(), this.pingEveryMs);
    });
    ws.addEventListener("message", (event) => {
      this.lastMessageAt = Date.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message.type === "session.closed") this.end();
      this.emit("message", message);
    });
    ws.addEventListener("close", (event) => {
      if (this.ws !== ws) return;
      clearInterval(this.pingTimer);
      this.ws = null;
      if (this.ended || event.code === 4001) {
        this.end();
        return;
      }
      if (!opened) {
        // Refused before opening: find out whether the session itself is gone.
        this.checkSession().then((alive) => (alive ? this.scheduleRetry() : this.end()));
        return;
      }
      this.scheduleRetry();
    });
  }

  keepAlive() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastMessageAt > this.idleTimeoutMs) {
      // Half-open connection (laptop slept, proxy dropped it): start over.
      this.ws.close(4000);
      return;
    }
    this.send({ type: "ping" });
  }

  async checkSession() {
    if (!this.meUrl) return true;
    try {
      const response = await fetch(this.meUrl, { credentials: "same-origin" });
      return !(response.status === 401 || response.status === 403);
    } catch {
      return true; // the network is down: keep trying
    }
  }

  scheduleRetry() {
    if (this.ended) return;
    this.emit("status", "reconnecting");
    const ceiling = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.ended || this.ws) return;
    this.attempt = 0;
    this.connect();
  }

  end() {
    if (this.endedEmitted) return;
    this.ended = true;
    this.endedEmitted = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    this.emit("status", "ended");
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }
}
