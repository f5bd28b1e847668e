package main

import (
	"context"
	"fmt"
	"time"

	"github.com/corslab/corslab/harness"
	_ "github.com/corslab/corslab/harness/engines"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env, err := harness.Start(ctx, harness.Options{Engines: []verdict.Engine{verdict.Chromium, verdict.Firefox}})
	if err != nil {
		panic(err)
	}
	defer env.Close()
	echo := []string{servers.Echo}
	show := func(name string, req harness.Request) {
		rs, err := env.DoAll(ctx, req)
		if err != nil {
			panic(err)
		}
		for _, r := range rs {
			a := r.Browser.Actual
			st := ""
			if a != nil {
				st = fmt.Sprintf("actual status=%d finished=%v failed=%v err=%q", a.Status, a.Finished, a.Failed, a.ErrorText)
			}
			fmt.Printf("%-28s [%s] %s | engine=%q refined=%q transport=%q event=%q | %s | msgs=%q\n", name, r.Engine, r.Verdict(), r.Browser.EngineReason, r.Browser.Refined != "", r.Page.Transport, r.Page.Event, st, r.Browser.Messages)
		}
	}
	show("authorization under *", harness.Request{Headers: []servers.Header{{Name: "Authorization", Value: "Bearer t"}}, Policy: servers.Policy{AllowOrigin: echo, AllowHeaders: []string{"*"}}})
	show("acao other", harness.Request{Policy: servers.Policy{AllowOrigin: []string{"http://other.example"}}})
	show("acao list", harness.Request{Policy: servers.Policy{AllowOrigin: []string{"$origin, http://other.example"}}})
	show("acao two lines", harness.Request{Policy: servers.Policy{AllowOrigin: []string{servers.Echo, servers.Echo}}})
	show("acao invalid", harness.Request{Policy: servers.Policy{AllowOrigin: []string{"not an origin"}}})
	show("acao missing", harness.Request{})
	show("legacy env", harness.Request{Environment: "legacy", Policy: servers.Policy{AllowOrigin: echo}})
	show("none env", harness.Request{Environment: "none", Policy: servers.Policy{AllowOrigin: echo}})
	show("modern env", harness.Request{Policy: servers.Policy{AllowOrigin: echo}})
}
