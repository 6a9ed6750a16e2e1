// Command eddy is the Eddy binary: `eddy server` runs every service on one
// port; other subcommands (bench, agent, ctl) register themselves in
// commands from their own files.
package main

import (
	"fmt"
	"os"
	"sort"
)

// commands maps a subcommand to its entry point; each lives in its own file.
var commands = map[string]command{}

type command struct {
	summary string
	run     func(args []string) error
}

func register(name, summary string, run func(args []string) error) {
	commands[name] = command{summary, run}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: eddy <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'eddy <command> -h' for its flags.")
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(2)
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "eddy: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "eddy %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
