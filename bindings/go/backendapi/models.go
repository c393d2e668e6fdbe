package backendapi

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
)

// ListModels returns the server's models as one typed list, under either
// protocol. With provider "": every model the server lists (the backend API's
// GET /backend-api/v2/models, each model with its Provider; under
// [ProtocolOpenAI], the "data" of GET {base}/models, each with its OwnedBy and
// Created). With a provider name (backend API only): that provider's models
// (GET /backend-api/v2/models/<provider>) with their flags, each with Provider
// set to it. The backend API's listing comes in the order of its provider names.
// Cancelling ctx ends the call at once (see [Client.ModelsJSON]).
func (c *Client) ListModels(ctx context.Context, provider string) ([]Model, error) {
	raw, err := c.ModelsJSON(ctx, provider)
	if err != nil {
		return nil, err
	}
	models, err := decodeListing(raw)
	if err != nil {
		return nil, listingError(err)
	}
	if provider != "" {
		for i := range models {
			models[i].Provider = provider
		}
	}
	return models, nil
}

// Models returns the server's model listing as each provider's name mapped to
// the names of its models (a model listed as an object counts by its "id", or
// "model"). Under [ProtocolOpenAI], whose listing has no providers, the models
// are grouped by their "owned_by" (often ""). See [Client.ListModels] for the
// models with their fields. Cancelling ctx ends the call at once.
func (c *Client) Models(ctx context.Context) (map[string][]string, error) {
	raw, err := c.ModelsJSON(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make(map[string][]string)
	if data, ok := openAIList(raw); ok {
		for _, m := range data {
			out[m.OwnedBy] = append(out[m.OwnedBy], m.ID)
		}
		return out, nil
	}
	byProvider, err := decodeProviders(raw)
	if err != nil {
		return nil, listingError(err)
	}
	for p, models := range byProvider {
		names := make([]string, len(models))
		for i, m := range models {
			names[i] = m.ID
		}
		out[p] = names
	}
	return out, nil
}

// ProviderModels returns the models of one provider
// (GET /backend-api/v2/models/<provider>): [Client.ListModels] with a provider.
// A listing in groups ({"group": ..., "models": [...]}) comes flat, each model
// with its Group. Cancelling ctx ends the call at once (see [Client.ModelsJSON]).
func (c *Client) ProviderModels(ctx context.Context, provider string) ([]Model, error) {
	if provider == "" {
		return nil, invalid("ProviderModels needs a provider name")
	}
	return c.ListModels(ctx, provider)
}

// decodeListing reads a model listing of any of the three shapes: an OpenAI
// list ({"object": "list", "data": [...]}), the backend API's object of
// providers (each a list of names or model objects; flattened in the order of
// the provider names), or one provider's list.
func decodeListing(raw json.RawMessage) ([]Model, error) {
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '[' {
		return decodeProviderList(trimmed)
	}
	if data, ok := openAIList(raw); ok {
		return data, nil
	}
	byProvider, err := decodeProviders(raw)
	if err != nil {
		return nil, err
	}
	providers := make([]string, 0, len(byProvider))
	for p := range byProvider {
		providers = append(providers, p)
	}
	sort.Strings(providers)
	var out []Model
	for _, p := range providers {
		out = append(out, byProvider[p]...)
	}
	return out, nil
}

// openAIList reads an OpenAI model list ({"object": "list", "data": [...]}); ok
// is false for any other JSON.
func openAIList(raw json.RawMessage) (data []Model, ok bool) {
	var list struct {
		Object string
		Data   []Model
	}
	if json.Unmarshal(raw, &list) != nil || list.Object != "list" || list.Data == nil {
		return nil, false
	}
	return list.Data, true
}

// decodeProviders reads the backend API's listing: each provider's name mapped
// to its models, listed as names or as model objects, each with its Provider.
func decodeProviders(raw json.RawMessage) (map[string][]Model, error) {
	var listing map[string][]json.RawMessage
	if err := json.Unmarshal(raw, &listing); err != nil {
		return nil, err
	}
	out := make(map[string][]Model, len(listing))
	for p, items := range listing {
		models := make([]Model, len(items))
		for i, item := range items {
			models[i].Provider = p
			if json.Unmarshal(item, &models[i].ID) != nil {
				if err := json.Unmarshal(item, &models[i]); err != nil { // keeps Provider
					return nil, err
				}
			}
		}
		out[p] = models
	}
	return out, nil
}

// decodeProviderList reads one provider's listing: model objects, or groups of
// them ({"group": ..., "models": [...]}), which come flat, each with its Group.
func decodeProviderList(raw json.RawMessage) ([]Model, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	var out []Model
	for _, item := range items {
		var group struct {
			Group  *string
			Models []json.RawMessage
		}
		if err := json.Unmarshal(item, &group); err != nil {
			return nil, err
		}
		if group.Group == nil {
			var m Model
			if err := json.Unmarshal(item, &m); err != nil {
				return nil, err
			}
			out = append(out, m)
			continue
		}
		for _, gm := range group.Models {
			m := Model{Group: *group.Group}
			if err := json.Unmarshal(gm, &m); err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// Model is one model of a listing (see [Client.ListModels]). Fields the server
// does not send are zero.
type Model struct {
	ID       string   // the model's name: "id" (newer g4f, OpenAI) or "model" (g4f 6.x)
	Provider string   // the provider that lists it (backend API); "" in an OpenAI listing
	OwnedBy  string   // "owned_by" of an OpenAI listing
	Created  int64    // "created" of an OpenAI listing (Unix seconds), else 0
	Label    string   // the name to show
	Default  bool     // the provider's default model
	Vision   bool     // takes images
	Image    bool     // makes images
	Audio    bool     // audio
	Video    bool     // video
	Count    int      // the provider's count for the model ("count"), 0 when not a number
	Tags     []string // the provider's tags for the model
	Group    string   // in a grouped listing, the group's name
	// Raw is the model's whole JSON object, for fields this struct does not have.
	Raw json.RawMessage
}

// UnmarshalJSON reads a model object of either g4f generation.
func (m *Model) UnmarshalJSON(data []byte) error {
	var f struct {
		ID, Model, Label                     string
		OwnedBy                              string `json:"owned_by"`
		Created                              json.RawMessage
		Default, Vision, Image, Audio, Video bool
		Count                                json.RawMessage
		Tags                                 []string
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	var count, created float64
	_ = json.Unmarshal(f.Count, &count)     // false or null: 0
	_ = json.Unmarshal(f.Created, &created) // absent or not a number: 0
	id := f.ID
	if id == "" {
		id = f.Model
	}
	*m = Model{ID: id, Provider: m.Provider, OwnedBy: f.OwnedBy, Created: int64(created), Label: f.Label, Default: f.Default, Vision: f.Vision, Image: f.Image, Audio: f.Audio,
		Video: f.Video, Count: int(count), Tags: f.Tags, Group: m.Group, Raw: append(json.RawMessage(nil), data...)}
	return nil
}

func listingError(err error) error {
	return &Error{Status: StatusProtocol, Message: "the model listing: " + err.Error()}
}
