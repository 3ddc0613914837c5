// Package fleet is the multi-process proof of cookiesession: several real
// server processes (cmd/node), each following its own key ring file, rotate
// keys while cookie-jar clients move between them round-robin, under a real
// HTTP load generator (wrk), through a SIGKILL and restart, with clocks that
// disagree, and with one user's sessions revoked through a revocation list
// file every process follows. It is a nested module so that the root module keeps its two
// requirements; it has no code of its own beyond the node server. Run it with
//
//	bash scripts/fleet.sh
//
// from the repository root. The drill and its phases are described in
// fleet_test.go.
package fleet
