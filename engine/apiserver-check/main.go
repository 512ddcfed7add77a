// apiserver-check reads API server files and flags with the API server's own code (k8s.io/apiserver at the
// Kubernetes version the nodes run), so that tests prove the kube-apiserver would accept what we generate:
//
//	apiserver-check -audit-policy FILE -encryption-config FILE -- --audit-log-path=... --encryption-provider-config=...
//	apiserver-check -encryption-config FILE -seal TEXT     # prints the value etcd would store, in base64
//	apiserver-check -encryption-config FILE -open BASE64   # prints the Secret value it reads back, or fails
//	apiserver-check -audit-policy FILE -level 'user=U;groups=G1,G2;verb=V;group=API;resource=R;namespace=N' ...
//	                                                       # prints the level the policy gives each request
//
// The audit policy goes through the loader --audit-policy-file uses, the encryption configuration through the one
// --encryption-provider-config uses (strict decoding: an unknown field is an error), and the flags through the
// flag sets of the audit and etcd options, whose Validate then runs. Prints one line per problem; exit 1 on any.
package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"

	"strings"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/server/options/encryptionconfig"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/value"
)

var secrets = schema.GroupResource{Resource: "secrets"}

// The authenticated data the API server binds a stored value to: its etcd key.
var storageKey = value.DefaultContext("/registry/secrets/default/apiserver-check")

func main() {
	auditPolicy := flag.String("audit-policy", "", "an audit Policy file")
	encryptionConfig := flag.String("encryption-config", "", "an EncryptionConfiguration file")
	seal := flag.String("seal", "", "a Secret value to seal as the API server would store it")
	open := flag.String("open", "", "a stored value (base64) to read back as the API server would")
	var requests requestList
	flag.Var(&requests, "level", "a request (user=;groups=;verb=;group=;resource=;namespace=) to rate with the policy")
	flag.Parse()
	var problems []string
	if *auditPolicy != "" {
		p, err := policy.LoadPolicyFromFile(*auditPolicy)
		if err != nil {
			problems = append(problems, fmt.Sprintf("audit policy: %v", err))
		} else {
			fmt.Printf("audit policy: %d rules, omitStages %v\n", len(p.Rules), p.OmitStages)
			// The evaluator the API server's audit handler asks for every request's level.
			evaluator := policy.NewPolicyRuleEvaluator(p)
			for _, request := range requests {
				attributes, err := requestLine(request).attributes()
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				fmt.Printf("level %s: %s\n", request, evaluator.EvaluatePolicyRule(attributes).Level)
			}
		}
	}
	if *encryptionConfig != "" {
		c, err := encryptionconfig.LoadEncryptionConfig(context.Background(), *encryptionConfig, false, "apiserver-check")
		if err != nil {
			problems = append(problems, fmt.Sprintf("encryption configuration: %v", err))
		} else {
			for resource := range c.Transformers {
				fmt.Printf("encryption configuration: %s encrypted\n", resource.String())
			}
			problems = append(problems, transform(c.Transformers[secrets], *seal, *open)...)
		}
	}
	if args := flag.Args(); len(args) > 0 {
		problems = append(problems, checkFlags(args)...)
	}
	for _, p := range problems {
		fmt.Println("problem:", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}

// checkFlags parses kube-apiserver flags of the audit and etcd (encryption) option groups, then validates them.
func checkFlags(args []string) []string {
	fs := pflag.NewFlagSet("kube-apiserver", pflag.ContinueOnError)
	audit := genericoptions.NewAuditOptions()
	audit.AddFlags(fs)
	etcd := genericoptions.NewEtcdOptions(storagebackend.NewDefaultConfig("/registry", nil))
	etcd.AddFlags(fs)
	// kubeadm always gives the etcd servers; Validate refuses their absence.
	if err := fs.Parse(append([]string{"--etcd-servers=https://127.0.0.1:2379"}, args...)); err != nil {
		return []string{fmt.Sprintf("flags: %v", err)}
	}
	var problems []string
	for _, err := range audit.Validate() {
		problems = append(problems, fmt.Sprintf("audit flags: %v", err))
	}
	for _, err := range etcd.Validate() {
		problems = append(problems, fmt.Sprintf("etcd flags: %v", err))
	}
	if len(problems) == 0 {
		fmt.Printf("flags: %d accepted\n", len(args))
	}
	return problems
}

// transform seals `plain` or opens `stored` with the Secrets' transformer, printing the result.
func transform(t value.Transformer, plain, stored string) []string {
	ctx := context.Background()
	if (plain != "" || stored != "") && t == nil {
		return []string{"secrets: no transformer"}
	}
	if plain != "" {
		out, err := t.TransformToStorage(ctx, []byte(plain), storageKey)
		if err != nil {
			return []string{fmt.Sprintf("seal: %v", err)}
		}
		fmt.Printf("sealed: %s\n", base64.StdEncoding.EncodeToString(out))
	}
	if stored != "" {
		data, err := base64.StdEncoding.DecodeString(stored)
		if err != nil {
			return []string{fmt.Sprintf("open: not base64: %v", err)}
		}
		out, stale, err := t.TransformFromStorage(ctx, data, storageKey)
		if err != nil {
			return []string{fmt.Sprintf("open: %v", err)}
		}
		fmt.Printf("opened: %s (stale: %v)\n", out, stale)
	}
	return nil
}

// requestList holds the -level requests, each "key=value" pairs separated by ";".
type requestList []string

func (r *requestList) String() string     { return strings.Join(*r, " ") }
func (r *requestList) Set(v string) error { *r = append(*r, v); return nil }

func (request requestLine) attributes() (authorizer.Attributes, error) {
	fields := map[string]string{}
	for _, pair := range strings.Split(string(request), ";") {
		key, value, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("request %q: %q is not key=value", request, pair)
		}
		fields[key] = value
	}
	var groups []string
	if fields["groups"] != "" {
		groups = strings.Split(fields["groups"], ",")
	}
	return authorizer.AttributesRecord{
		User: &user.DefaultInfo{Name: fields["user"], Groups: groups}, Verb: fields["verb"],
		APIGroup: fields["group"], Resource: fields["resource"], Namespace: fields["namespace"],
		ResourceRequest: true,
	}, nil
}

type requestLine string
