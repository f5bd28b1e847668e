package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/corslab/corslab/harness"
	_ "github.com/corslab/corslab/harness/engines"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env, err := harness.Start(ctx, harness.Options{Engines: []verdict.Engine{verdict.Engine(os.Args[1])}})
	if err != nil {
		panic(err)
	}
	defer env.Close()
	x := []servers.Header{{Name: "X-Corslab", Value: "1"}}
	echo := []string{servers.Echo}
	try := func(name string, first, second harness.Request) {
		second.Policy = first.Policy
		rs, err := env.Play(ctx, harness.Scenario{Sends: []harness.Send{{Request: first}, {Request: second, Reuse: 1}}})
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-50s 1st: pre=%v %s | 2nd: pre=%v %s\n", name, rs[0].Preflighted(), rs[0].Verdict(), rs[1].Preflighted(), rs[1].Verdict())
	}
	cred := servers.Policy{AllowOrigin: echo, AllowCredentials: "true", AllowHeaders: []string{"*"}, MaxAge: "600"}
	try("cred (acah * refused) then uncred", harness.Request{Credentials: true, Headers: x, Policy: cred}, harness.Request{Headers: x})
	try("cred (acah * refused) then cred", harness.Request{Credentials: true, Headers: x, Policy: cred}, harness.Request{Credentials: true, Headers: x})
	m := servers.Policy{AllowOrigin: echo, AllowMethods: []string{"PUT"}, AllowHeaders: []string{"X-Corslab"}, MaxAge: "600"}
	try("DELETE refused (acam PUT) then PUT", harness.Request{Method: "DELETE", Policy: m}, harness.Request{Method: "PUT"})
	h := servers.Policy{AllowOrigin: echo, AllowHeaders: []string{"X-Corslab"}, MaxAge: "600"}
	try("X-Other refused (acah X-Corslab) then X-Corslab", harness.Request{Headers: []servers.Header{{Name: "X-Other", Value: "1"}}, Policy: h}, harness.Request{Headers: x})
	try("uncred ok (acah *) then cred", harness.Request{Headers: x, Policy: cred}, harness.Request{Credentials: true, Headers: x})
	try("cred ok (acah X-Corslab) then uncred", harness.Request{Credentials: true, Headers: x, Policy: servers.Policy{AllowOrigin: echo, AllowCredentials: "true", AllowHeaders: []string{"X-Corslab"}, MaxAge: "600"}}, harness.Request{Headers: x})
}
