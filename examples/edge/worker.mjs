// The bridge between the Workers runtime and the Go program (main.go, built
// with GOOS=js GOARCH=wasm): each Fetch API request becomes one call of the
// Go function cookiesessionServe(method, url, headers, body), whose answer, a
// promise of {status, headers, body}, becomes the Response. The handler runs
// on a goroutine of its own, so one that waits (a timer) lets the others run.
// Headers travel as a list of [name, value] pairs, so every Set-Cookie line
// stays its own header.
//
// The Go program starts on the first request, not at module load: Workers
// refuse random numbers (the Go runtime seeds itself with them) in the
// global scope. It gets the COOKIESESSION_KEYS binding as its environment,
// where cookiesession.KeyRingFromEnv reads it.
import "./build/wasm_exec.js"; // defines globalThis.Go; copied from $(go env GOROOT)/lib/wasm
import program from "./build/visits.wasm"; // a WebAssembly.Module (a wasm module binding)

let started = null; // the promise of the Go function, once the program runs

function start(env) {
	const go = new Go();
	go.argv = ["edge"];
	go.env = {};
	if (typeof env.COOKIESESSION_KEYS === "string") {
		go.env.COOKIESESSION_KEYS = env.COOKIESESSION_KEYS;
	}
	return WebAssembly.instantiate(program, go.importObject).then((instance) => {
		delete globalThis.cookiesessionServe; // a program that exited before left its own
		go.run(instance).then(
			() => console.error("edge: the Go program exited; the next request starts it again"),
			(err) => console.error("edge: the Go program failed; the next request starts it again:", err),
		).finally(() => { started = null; });
		const serve = globalThis.cookiesessionServe;
		if (typeof serve !== "function") {
			throw new Error("the Go program did not publish cookiesessionServe");
		}
		return serve;
	});
}

function failure(status, text) {
	return new Response(text + "\n", { status, headers: { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" } });
}

export default {
	async fetch(request, env) {
		let serve;
		try {
			started ??= start(env);
			serve = await started;
		} catch (err) {
			started = null;
			console.error("edge: 500: the Go program could not start:", err);
			return failure(500, "500: the worker could not start; its log says why");
		}
		const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
		let out;
		try {
			out = await serve(request.method, request.url, [...request.headers], body);
		} catch (err) {
			console.error("edge: 500: the Go program failed on", request.method, request.url, err);
			return failure(500, "500: internal server error");
		}
		const headers = new Headers();
		for (const [name, value] of out.headers) {
			try {
				headers.append(name, value);
			} catch (err) {
				console.error("edge: header dropped:", name, err.message);
			}
		}
		const nullBody = out.status === 204 || out.status === 304 || request.method === "HEAD";
		return new Response(nullBody ? null : out.body, { status: out.status, headers });
	},
};
