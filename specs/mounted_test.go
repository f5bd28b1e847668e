package specs_test

import (
	"context"
	"io"
	"net/http"
	"time"

	gincors "github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
	chicors "github.com/go-chi/cors"
	"github.com/gorilla/handlers"
	jcors "github.com/jub0bs/cors"
	echov4 "github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/rs/cors"

	"github.com/corslab/corslab/harness"
	"github.com/corslab/corslab/harness/verdict"
	"github.com/corslab/corslab/servers"
)

// resource is the application behind each middleware: it answers every
// method with a body and two headers, one of which the configurations
// expose. servers.App marks it, so a Result tells a middleware's answer from
// the application's.
func resource() http.Handler {
	return servers.App(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Total", "3")
		w.Header().Set("X-Secret", "s")
		_, _ = io.WriteString(w, "ok "+r.Method)
	}))
}

// userMux is the user's API as the mounted Env serves it: real middleware
// configurations, unchanged, each under its own path.
func userMux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/users", servers.App(usersAPI()))
	mux.Handle("/users/", servers.App(usersAPI()))
	mux.Handle("/rs/", cors.New(cors.Options{
		AllowedOrigins:   []string{"https://app.example.com"},
		AllowedMethods:   []string{"GET", "PUT"},
		AllowedHeaders:   []string{"Content-Type"},
		ExposedHeaders:   []string{"X-Total"},
		AllowCredentials: true,
		MaxAge:           60,
	}).Handler(resource()))
	mux.Handle("/rs-all/", cors.AllowAll().Handler(resource()))
	mux.Handle("/chi/", chicors.Handler(chicors.Options{
		AllowedOrigins:   []string{"https://*.example.com"},
		AllowedMethods:   []string{"GET", "POST", "PATCH"},
		AllowedHeaders:   []string{"Content-Type"},
		AllowCredentials: true,
		MaxAge:           300,
	})(resource()))
	mux.Handle("/gorilla/", handlers.CORS(
		handlers.AllowedOrigins([]string{"https://app.example.com"}),
		handlers.AllowedMethods([]string{"GET", "PUT"}),
		handlers.ExposedHeaders([]string{"X-Total"}),
		handlers.AllowCredentials(),
	)(resource()))
	mux.Handle("/gorilla-any/", handlers.CORS(handlers.AllowCredentials())(resource()))
	mux.Handle("/gin/", ginAPI())
	mux.Handle("/echo/", echoAPI())
	mux.Handle("/jub0bs/", jub0bsAPI())
	return mux
}

// ginAPI is gin with gin-contrib/cors: app.example.com, GET and PUT,
// Content-Type, exposes X-Total, credentials, max-age 60; and a second
// route group allowing every origin with credentials.
func ginAPI() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	strict := r.Group("/gin/strict", gincors.New(gincors.Config{
		AllowOrigins:     []string{"https://app.example.com"},
		AllowMethods:     []string{"GET", "PUT"},
		AllowHeaders:     []string{"Content-Type"},
		ExposeHeaders:    []string{"X-Total"},
		AllowCredentials: true,
		MaxAge:           time.Minute,
	}))
	strict.Any("/*path", gin.WrapH(resource()))
	all := r.Group("/gin/all", gincors.New(gincors.Config{AllowAllOrigins: true, AllowCredentials: true, AllowMethods: []string{"GET"}}))
	all.Any("/*path", gin.WrapH(resource()))
	return r
}

// echoAPI is echo with its CORS middleware: app.example.com, GET and PUT,
// credentials, exposes X-Total; and a group with the documented unsafe
// wildcard-with-credentials switch.
func echoAPI() http.Handler {
	e := echov4.New()
	strict := e.Group("/echo/strict", echomw.CORSWithConfig(echomw.CORSConfig{
		AllowOrigins:     []string{"https://app.example.com"},
		AllowMethods:     []string{http.MethodGet, http.MethodPut},
		AllowHeaders:     []string{"Content-Type"},
		ExposeHeaders:    []string{"X-Total"},
		AllowCredentials: true,
		MaxAge:           60,
	}))
	strict.Any("/*", echov4.WrapHandler(resource()))
	unsafe := e.Group("/echo/unsafe", echomw.CORSWithConfig(echomw.CORSConfig{
		AllowOrigins: []string{"*"}, AllowCredentials: true, UnsafeWildcardOriginWithAllowCredentials: true,
	}))
	unsafe.Any("/*", echov4.WrapHandler(resource()))
	return e
}

// jub0bsAPI is jub0bs/cors: app.example.com, GET and PUT, Content-Type,
// exposes X-Total, credentials, max-age 60.
func jub0bsAPI() http.Handler {
	mw, err := jcors.NewMiddleware(jcors.Config{
		Origins:         []string{"https://app.example.com"},
		Credentialed:    true,
		Methods:         []string{http.MethodGet, http.MethodPut},
		RequestHeaders:  []string{"Content-Type"},
		MaxAgeInSeconds: 60,
		ResponseHeaders: []string{"X-Total"},
	})
	if err != nil {
		panic(err) // a valid configuration: a tree-construction failure says what changed
	}
	return mw.Wrap(resource())
}

// mounted is this ginkgo process's Env whose API origin serves userMux;
// started by the first spec that needs it, closed after the suite.
var mounted *harness.Env

func mountedEnv(ctx context.Context) *harness.Env {
	GinkgoHelper()
	if mounted == nil {
		e, err := harness.Start(ctx, harness.Options{Engines: []verdict.Engine{verdict.Chromium}, Servers: servers.Options{API: userMux(), AppMarked: true}, ShareBrowser: true})
		Expect(err).NotTo(HaveOccurred(), "start the mounted Env")
		mounted = e
	}
	return mounted
}

// sessionsAs are this process's sessions on the mounted Env, one per page
// origin. As in Env.Do's shared tab, each request has its own token (the
// corslab-token query parameter), so its own preflight-cache entry; the
// mounted handlers set no cookies.
var sessionsAs = map[string]*harness.Session{}

var _ = AfterSuite(func() {
	for origin, s := range sessionsAs {
		s.Close()
		delete(sessionsAs, origin)
	}
	if mounted != nil {
		Expect(mounted.Close()).To(Succeed())
		mounted = nil
	}
})

// sessionAs returns this process's session on the mounted Env whose page runs as origin, opening it on first use.
func sessionAs(ctx context.Context, origin string) *harness.Session {
	GinkgoHelper()
	if s := sessionsAs[origin]; s != nil {
		return s
	}
	s, err := mountedEnv(ctx).NewSessionAs(ctx, origin)
	Expect(err).NotTo(HaveOccurred())
	sessionsAs[origin] = s
	return s
}

// doAs sends req from a page on origin to the mounted Env. The model
// predicts a mounted handler from the headers it answered, and must explain
// what the browser did.
func doAs(ctx context.Context, origin string, req harness.Request) harness.Result {
	GinkgoHelper()
	r, err := sessionAs(ctx, origin).Do(ctx, req)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.Predicted.NotModelled).To(BeEmpty(), "the model predicts every server\n%s", r)
	Expect(r.ModelDisagreements()).To(BeEmpty(), "the model explains what the browser did\n%s", r)
	return r
}

// json is a JSON request body with its (not safelisted) content type.
func json(method, url string) harness.Request {
	return harness.Request{API: harness.Fetch, Method: method, URL: url, Body: `{"n":1}`,
		Headers: []servers.Header{{Name: "Content-Type", Value: "application/json"}}}
}
