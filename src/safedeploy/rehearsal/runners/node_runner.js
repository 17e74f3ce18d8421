// The Node.js function runner: a child process that loads one handler and answers invocations.
//
// Started as `node node_runner.js TASK_ROOT HANDLER`. Protocol, one JSON document a line: stdin
// {"event", "context"}; stdout first {"ready": true} or {"init_error": {...}}, then one answer per
// request {"result"} or {"error"}, each with the call's "logs" (what the function wrote with console or
// process.stdout) and "refused" (hosts it tried to reach outside the machine). CommonJS and ES modules
// (.mjs, or "type": "module"), async handlers and callback handlers, as Lambda's Node.js runtime loads them.
"use strict";

const fs = require("fs");
const net = require("net");
const path = require("path");
const readline = require("readline");
const url = require("url");

const refused = [];
let logs = [];

function loopback(host) {
  const h = String(host || "").replace(/^\[|\]$/g, "").toLowerCase();
  return h === "" || h === "localhost" || h.startsWith("127.") || h === "::1" || h.endsWith(".localhost");
}

// Nothing leaves the machine: a TCP connection (HTTP, HTTPS, fetch all make one) to anything but
// loopback is refused and remembered.
const realConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  let options = args[0];
  if (Array.isArray(options)) options = options[0];
  if (typeof options !== "object" || options === null) options = { port: args[0], host: args[1] };
  if (!options.path && !loopback(options.host)) {
    refused.push(String(options.host));
    const error = new Error(
      `rehearsal: refused a connection to ${options.host} (only the fake account on loopback is reachable)`
    );
    error.code = "ECONNREFUSED";
    process.nextTick(() => this.destroy(error));
    return this;
  }
  return realConnect.apply(this, args);
};

const writeOut = process.stdout.write.bind(process.stdout);
function keep(chunk, encoding, callback) {
  logs.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
  if (typeof encoding === "function") encoding();
  else if (typeof callback === "function") callback();
  return true;
}
process.stdout.write = keep;

function send(message) {
  message.logs = logs.join("");
  message.refused = refused.splice(0);
  logs = [];
  writeOut(JSON.stringify(message) + "\n");
}

function errorOf(error) {
  if (!(error instanceof Error)) return { errorType: "Error", errorMessage: String(error), stackTrace: [] };
  return {
    errorType: error.name || "Error",
    errorMessage: error.message,
    stackTrace: String(error.stack || "").split("\n").slice(1, 4),
  };
}

function isModule(file) {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs")) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        return JSON.parse(fs.readFileSync(manifest, "utf8")).type === "module";
      } catch (e) {
        return false;
      }
    }
    if (path.dirname(dir) === dir) return false;
  }
}

async function load(taskRoot, handlerName) {
  const dot = handlerName.lastIndexOf(".");
  const modulePath = handlerName.slice(0, dot);
  const exportName = handlerName.slice(dot + 1);
  const base = path.resolve(taskRoot, modulePath);
  const file = [".js", ".mjs", ".cjs"].map((ext) => base + ext).find((f) => fs.existsSync(f));
  if (!file) throw new Error(`Cannot find module '${modulePath}' (.js, .mjs or .cjs) in ${taskRoot}`);
  const loaded = isModule(file) ? await import(url.pathToFileURL(file).href) : require(file);
  const handler = exportName.split(".").reduce((o, k) => (o == null ? undefined : o[k]), loaded);
  if (typeof handler !== "function") throw new Error(`${modulePath}.${exportName} is not a function`);
  return handler;
}

function context(fields) {
  const deadline = Date.now() + fields.timeout_s * 1000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fields.function_name,
    functionVersion: fields.function_version,
    invokedFunctionArn: fields.invoked_function_arn,
    memoryLimitInMB: String(fields.memory_limit_in_mb),
    awsRequestId: fields.aws_request_id,
    logGroupName: fields.log_group_name,
    logStreamName: fields.log_stream_name,
    getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  };
}

function call(handler, event, ctx) {
  return new Promise((resolve, reject) => {
    const callback = (error, result) => (error ? reject(error) : resolve(result));
    try {
      const returned = handler(event, ctx, callback);
      if (returned && typeof returned.then === "function") returned.then(resolve, reject);
      else if (handler.length < 3) resolve(returned);
    } catch (error) {
      reject(error);
    }
  });
}

async function main() {
  const [taskRoot, handlerName] = process.argv.slice(2);
  process.chdir(taskRoot);
  let handler;
  try {
    handler = await load(taskRoot, handlerName);
  } catch (error) {
    send({ init_error: errorOf(error) });
    return;
  }
  send({ ready: true });
  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    queue = queue.then(async () => {
      const request = JSON.parse(line);
      Object.assign(process.env, request.env || {});
      try {
        const result = await call(handler, request.event, context(request.context));
        send({ result: result === undefined ? null : result });
      } catch (error) {
        send({ error: errorOf(error) });
      }
    });
  });
  lines.on("close", () => queue.then(() => process.exit(0)));
}

process.on("unhandledRejection", () => {});
main();
