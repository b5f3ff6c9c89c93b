/*
 * c8-websocket.js: a browser client for blimp's Cinema8 widget channel
 * (examples/cinema8), shaped like Cinema8's c8PlayerApi.webSocket:
 *
 *   var socket = new c8PlayerApi.webSocket({ clientId: "widget-42", persistent: true });
 *   socket.onOpen = function () { socket.publish({ msg: "Hi" }); };
 *   socket.onMessage = function (message) { console.log(message.data); };
 *   socket.onActiveConnectionsChange = function (message) { console.log(message.data); };
 *   socket.onClose = function (event) {};
 *   socket.onError = function (err) { console.log(err.code, err.message); };
 *   socket.search({ query: { sortField: "created", limit: 10 },
 *                   success: function (res) {}, error: function (err) {} });
 *   socket.close();
 *
 * Options: clientId (required: the widget instance id), persistent (default false:
 * store what this socket publishes), url (default: the cinema8 endpoint on the
 * page's own host), token (authenticates the user; sent as the token query
 * parameter, since browsers cannot set headers on a WebSocket).
 *
 * Load it with a <script> tag: it defines (or extends) the global c8PlayerApi. It
 * needs only the standard WebSocket API. The protocol is in examples/cinema8/README.md.
 */
(function (root) {
  "use strict";

  var defaultPath = "/websockets/v4/service/cinema8";
  var defaultTimeout = 15000; // ms a publish or search waits for its answer

  function defaultURL() {
    var loc = root.location;
    if (!loc || !loc.host) {
      throw new TypeError("c8PlayerApi.webSocket: no url given and no page location to derive one from");
    }
    return (loc.protocol === "https:" ? "wss://" : "ws://") + loc.host + defaultPath;
  }

  function withParams(url, params) {
    var parts = [];
    for (var k in params) {
      if (Object.prototype.hasOwnProperty.call(params, k) && params[k] !== undefined) {
        parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(params[k]));
      }
    }
    return url + (url.indexOf("?") < 0 ? "?" : "&") + parts.join("&");
  }

  // call runs a user callback; an exception in it is rethrown asynchronously (so it
  // shows in the console) instead of breaking the socket's bookkeeping.
  function call(fn, self, arg) {
    if (typeof fn !== "function") return;
    try {
      fn.call(self, arg);
    } catch (e) {
      setTimeout(function () { throw e; }, 0);
    }
  }

  function C8WebSocket(options) {
    if (!(this instanceof C8WebSocket)) return new C8WebSocket(options);
    options = options || {};
    if (typeof options.clientId !== "string" || options.clientId === "") {
      throw new TypeError("c8PlayerApi.webSocket: options.clientId (the widget instance id) is required");
    }
    var WS = root.WebSocket;
    if (typeof WS !== "function") {
      throw new TypeError("c8PlayerApi.webSocket: this environment has no WebSocket");
    }
    this.clientId = options.clientId;
    this.persistent = options.persistent === true;
    this.session = null; // {connectionId, client_id, persistent, username} once open
    this.onOpen = null;
    this.onMessage = null;
    this.onActiveConnectionsChange = null;
    this.onClose = null;
    this.onError = null;

    this._queue = []; // frames sent before the server's welcome
    this._pending = {}; // requestId -> {success, error, timer}
    this._next = 0;
    this._closed = false;

    var self = this;
    var ws = new WS(withParams(options.url || defaultURL(), {
      client_id: this.clientId,
      persistent: this.persistent ? "true" : "false",
      token: options.token || undefined,
    }));
    this._ws = ws;
    ws.onmessage = function (event) { self._receive(event.data); };
    ws.onerror = function () {
      call(self.onError, self, { code: "socket_error", message: "WebSocket error" });
    };
    ws.onclose = function (event) {
      self._closed = true;
      self._failAll({ code: "closed", message: "the connection closed (" + event.code + ")" });
      call(self.onClose, self, { code: event.code, reason: event.reason, wasClean: event.wasClean });
    };
  }

  C8WebSocket.prototype._receive = function (text) {
    if (typeof text !== "string") return; // the channel sends only JSON text
    var frame;
    try {
      frame = JSON.parse(text);
    } catch (e) {
      return;
    }
    if (!frame || typeof frame !== "object") return;
    switch (frame.type) {
      case "welcome":
        this.session = frame.data;
        var queued = this._queue;
        this._queue = [];
        for (var i = 0; i < queued.length; i++) this._ws.send(queued[i]);
        call(this.onOpen, this, frame);
        break;
      case "message":
        call(this.onMessage, this, frame);
        break;
      case "activeConnectionsChange":
        call(this.onActiveConnectionsChange, this, frame);
        break;
      case "published":
      case "searchResult":
        this._settle(frame.requestId, "success", frame.data);
        break;
      case "error":
        var err = { code: frame.code, message: frame.error };
        if (frame.requestId === undefined || !this._settle(frame.requestId, "error", err)) {
          call(this.onError, this, err);
        }
        break;
      // other types: from a newer server; ignored
    }
  };

  // _settle answers a pending request and reports whether there was one.
  C8WebSocket.prototype._settle = function (requestId, outcome, value) {
    var p = this._pending[requestId];
    if (!p) return false;
    delete this._pending[requestId];
    clearTimeout(p.timer);
    call(p[outcome], this, value);
    return true;
  };

  C8WebSocket.prototype._failAll = function (err) {
    this._queue = [];
    for (var id in this._pending) this._settle(id, "error", err);
  };

  // _request sends frame with a fresh requestId and calls cb.success or cb.error
  // with the answer. Without callbacks it returns a Promise instead.
  C8WebSocket.prototype._request = function (frame, cb) {
    var self = this;
    if (!cb || (typeof cb.success !== "function" && typeof cb.error !== "function")) {
      return new Promise(function (resolve, reject) {
        self._request(frame, {
          success: resolve,
          error: function (err) { reject(Object.assign(new Error(err.message), err)); },
          timeout: cb && cb.timeout,
        });
      });
    }
    var id = "r" + ++this._next;
    frame.requestId = id;
    if (this._closed) {
      call(cb.error, this, { code: "closed", message: "the connection is closed" });
      return undefined;
    }
    this._pending[id] = {
      success: cb.success,
      error: cb.error,
      timer: setTimeout(function () {
        self._settle(id, "error", { code: "timeout", message: "no answer from the server in time" });
      }, cb.timeout || defaultTimeout),
    };
    this._send(frame);
    return undefined;
  };

  C8WebSocket.prototype._send = function (frame) {
    var text = JSON.stringify(frame);
    if (this.session && this._ws.readyState === 1) {
      this._ws.send(text);
    } else {
      this._queue.push(text); // sent once the server has welcomed us
    }
  };

  // publish sends data to the widget's other connections (and stores it when the
  // socket is persistent). With {success, error} (or a Promise when called with
  // {} ) it reports the result: {id, created, persistent, delivered}.
  C8WebSocket.prototype.publish = function (data, cb) {
    if (data === undefined) throw new TypeError("publish(data): data is required");
    if (cb) return this._request({ type: "publish", data: data }, cb);
    if (this._closed) {
      call(this.onError, this, { code: "closed", message: "publish on a closed connection" });
      return undefined;
    }
    this._send({ type: "publish", data: data });
    return undefined;
  };

  // search queries the widget's stored data: {query, success, error, timeout}.
  // Without success and error it returns a Promise of the results.
  C8WebSocket.prototype.search = function (opts) {
    opts = opts || {};
    return this._request({ type: "search", query: opts.query || {} }, opts);
  };

  C8WebSocket.prototype.close = function () {
    if (this._closed) return;
    this._closed = true;
    this._ws.close(1000);
  };

  var api = root.c8PlayerApi || (root.c8PlayerApi = {});
  api.webSocket = C8WebSocket;
})(typeof globalThis !== "undefined" ? globalThis : typeof window !== "undefined" ? window : this);
