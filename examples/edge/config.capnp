# workerd configuration for the cookiesession demo at the edge: one worker,
# worker.mjs (the bridge) with the Go program build/visits.wasm, on
# http://127.0.0.1:8787 (scripts/edge.sh picks a free port with --socket-addr).
# The key ring comes from the environment of the workerd process, as a
# Workers secret would: COOKIESESSION_KEYS="$(cat keys.json)" workerd serve config.capnp
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .edge)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const edge :Workerd.Worker = (
  compatibilityDate = "2025-09-01",
  modules = .modules,
  bindings = [(name = "COOKIESESSION_KEYS", fromEnvironment = "COOKIESESSION_KEYS")],
);

# The bridge, the Go runtime's support code and the Go program (scripts/edge.sh
# builds the two under build/; its test configuration imports this list).
const modules :List(Workerd.Worker.Module) = [
  (name = "worker.mjs", esModule = embed "worker.mjs"),
  (name = "build/wasm_exec.js", esModule = embed "build/wasm_exec.js"),
  (name = "build/visits.wasm", wasm = embed "build/visits.wasm"),
];
