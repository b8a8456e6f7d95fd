// Package pipeline runs ferry as an AWS CodePipeline Lambda invoke action:
// it reads the job CodePipeline hands the function, runs an Action with a
// deadline that leaves time to answer, and always reports the job's result
// (PutJobSuccessResult or PutJobFailureResult). A job nobody reports hangs
// in the console until CodePipeline times it out, long after the function
// is gone, so every path here, panics and deadlines included, ends in a
// report.
package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Job is a CodePipeline job as a Lambda invoke action receives it (the
// "CodePipeline.job" member of the payload).
//
// Credentials are secret: Job's String, GoString and LogValue leave them
// out, so printing or logging a Job does not leak them.
type Job struct {
	ID, AccountID string
	// UserParameters is the action's free-form configuration string
	// (data.actionConfiguration.configuration.UserParameters).
	UserParameters string
	// Inputs and Outputs are the artifacts in the pipeline's artifact store
	// (data.inputArtifacts, data.outputArtifacts).
	Inputs, Outputs []Artifact
	// Credentials are temporary keys to read and write the artifact bucket
	// (data.artifactCredentials). Never log them.
	Credentials aws.Credentials
	// ContinuationToken is set when a previous invocation of this action
	// asked to continue (data.continuationToken).
	ContinuationToken string
	// EncryptionKey is the artifact store's key (data.encryptionKey), nil
	// when the store has none.
	EncryptionKey *EncryptionKey
}

// Artifact is an input or output artifact: a zip in the artifact store.
type Artifact struct{ Name, Bucket, Key string }

// EncryptionKey names the key of the artifact store; Type is "KMS".
type EncryptionKey struct{ ID, Type string }

// credentialsSource is the Source of Job.Credentials.
const credentialsSource = "CodePipeline artifactCredentials"

// wire is the payload as CodePipeline sends it.
type wire struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	Data      struct {
		ActionConfiguration struct {
			Configuration struct {
				UserParameters string `json:"UserParameters"`
			} `json:"configuration"`
		} `json:"actionConfiguration"`
		InputArtifacts      []wireArtifact `json:"inputArtifacts"`
		OutputArtifacts     []wireArtifact `json:"outputArtifacts"`
		ArtifactCredentials struct {
			AccessKeyID     string `json:"accessKeyId"`
			SecretAccessKey string `json:"secretAccessKey"`
			SessionToken    string `json:"sessionToken"`
		} `json:"artifactCredentials"`
		ContinuationToken string `json:"continuationToken"`
		EncryptionKey     *struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		} `json:"encryptionKey"`
	} `json:"data"`
}

type wireArtifact struct {
	Name     string `json:"name"`
	Location struct {
		Type       string `json:"type"`
		S3Location *struct {
			BucketName string `json:"bucketName"`
			ObjectKey  string `json:"objectKey"`
		} `json:"s3Location"`
	} `json:"location"`
}

// Parse reads the job of a Lambda invocation payload,
// {"CodePipeline.job": {...}}. When the job is malformed but has an id,
// the returned Job carries that id, so that the failure can still be
// reported instead of leaving the job to hang.
func Parse(payload []byte) (Job, error) {
	var outer struct {
		Job json.RawMessage `json:"CodePipeline.job"`
	}
	if err := json.Unmarshal(payload, &outer); err != nil {
		return Job{}, fmt.Errorf("CodePipeline job: payload is not a JSON object: %w", err)
	}
	if len(outer.Job) == 0 || bytes.Equal(outer.Job, []byte("null")) {
		return Job{}, errors.New(`CodePipeline job: payload has no "CodePipeline.job" member`)
	}
	// The id first, on its own, so that a job malformed elsewhere can
	// still be answered.
	var head struct {
		ID        string `json:"id"`
		AccountID string `json:"accountId"`
	}
	if err := json.Unmarshal(outer.Job, &head); err != nil {
		return Job{}, fmt.Errorf("CodePipeline job: malformed job: %w", err)
	}
	if head.ID == "" {
		return Job{}, errors.New(`CodePipeline job: no job id ("CodePipeline.job".id is missing or empty)`)
	}
	job := Job{ID: head.ID, AccountID: head.AccountID}

	var w wire
	if err := json.Unmarshal(outer.Job, &w); err != nil {
		return job, fmt.Errorf("CodePipeline job %s: malformed job data: %w", job.ID, err)
	}
	d := w.Data
	job.UserParameters = d.ActionConfiguration.Configuration.UserParameters
	var err error
	if job.Inputs, err = artifacts(d.InputArtifacts); err != nil {
		return job, fmt.Errorf("CodePipeline job %s: input %w", job.ID, err)
	}
	if job.Outputs, err = artifacts(d.OutputArtifacts); err != nil {
		return job, fmt.Errorf("CodePipeline job %s: output %w", job.ID, err)
	}
	if c := d.ArtifactCredentials; c.AccessKeyID != "" || c.SecretAccessKey != "" {
		job.Credentials = aws.Credentials{
			AccessKeyID:     c.AccessKeyID,
			SecretAccessKey: c.SecretAccessKey,
			SessionToken:    c.SessionToken,
			Source:          credentialsSource,
		}
	}
	job.ContinuationToken = d.ContinuationToken
	if k := d.EncryptionKey; k != nil && k.ID != "" {
		job.EncryptionKey = &EncryptionKey{ID: k.ID, Type: k.Type}
	}
	return job, nil
}

// artifacts converts artifact locations; CodePipeline's artifact stores
// are S3 buckets, so any other location is a job ferry cannot do.
func artifacts(ws []wireArtifact) ([]Artifact, error) {
	var as []Artifact
	for i, w := range ws {
		s3 := w.Location.S3Location
		if (w.Location.Type != "" && w.Location.Type != "S3") || s3 == nil || s3.BucketName == "" || s3.ObjectKey == "" {
			return nil, fmt.Errorf("artifact %d (%q): no S3 location (type %q)", i, w.Name, w.Location.Type)
		}
		as = append(as, Artifact{Name: w.Name, Bucket: s3.BucketName, Key: s3.ObjectKey})
	}
	return as, nil
}

// String describes the job without its credentials.
func (j Job) String() string {
	return fmt.Sprintf("CodePipeline job %s (account %s, %d inputs, %d outputs, continuation %t)",
		j.ID, j.AccountID, len(j.Inputs), len(j.Outputs), j.ContinuationToken != "")
}

// GoString keeps %#v from printing the credentials.
func (j Job) GoString() string { return "pipeline.Job{" + j.String() + "}" }

// LogValue keeps slog from printing the credentials.
func (j Job) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", j.ID),
		slog.String("account", j.AccountID),
		slog.Int("inputs", len(j.Inputs)),
		slog.Int("outputs", len(j.Outputs)),
		slog.Bool("continuation", j.ContinuationToken != ""),
	)
}

// DecodeParams decodes UserParameters as a JSON object into v, refusing
// unknown fields. Its errors are ConfigurationErrors: the pipeline's
// action configuration must change, trying again cannot help.
func (j Job) DecodeParams(v any) error {
	if strings.TrimSpace(j.UserParameters) == "" {
		return Fail(ConfigurationError, errors.New("UserParameters is empty; want a JSON object"))
	}
	d := json.NewDecoder(bytes.NewReader([]byte(j.UserParameters)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return Fail(ConfigurationError, fmt.Errorf("UserParameters: %w", err))
	}
	if d.More() {
		return Fail(ConfigurationError, errors.New("UserParameters: more than one JSON value"))
	}
	return nil
}
