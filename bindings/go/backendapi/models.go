package backendapi

import (
	"context"
	"encoding/json"
)

// Models returns the server's model listing (GET /backend-api/v2/models): each
// provider's name mapped to the names of its models. A model the server lists as
// an object rather than a name counts by its "id" (or "model") field. Cancelling
// ctx ends the call at once (see [Client.ModelsJSON]).
func (c *Client) Models(ctx context.Context) (map[string][]string, error) {
	raw, err := c.ModelsJSON(ctx, "")
	if err != nil {
		return nil, err
	}
	var listing map[string][]json.RawMessage
	if err := json.Unmarshal(raw, &listing); err != nil {
		return nil, listingError(err)
	}
	out := make(map[string][]string, len(listing))
	for provider, models := range listing {
		names := make([]string, 0, len(models))
		for _, m := range models {
			var name string
			if json.Unmarshal(m, &name) != nil {
				var obj Model
				if err := json.Unmarshal(m, &obj); err != nil {
					return nil, listingError(err)
				}
				name = obj.ID
			}
			names = append(names, name)
		}
		out[provider] = names
	}
	return out, nil
}

// ProviderModels returns the models of one provider
// (GET /backend-api/v2/models/<provider>). A listing in groups
// ({"group": ..., "models": [...]}) comes flat, each model with its Group.
// Cancelling ctx ends the call at once (see [Client.ModelsJSON]).
func (c *Client) ProviderModels(ctx context.Context, provider string) ([]Model, error) {
	if provider == "" {
		return nil, invalid("ProviderModels needs a provider name")
	}
	raw, err := c.ModelsJSON(ctx, provider)
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, listingError(err)
	}
	var out []Model
	for _, item := range items {
		var group struct {
			Group  *string
			Models []json.RawMessage
		}
		if err := json.Unmarshal(item, &group); err != nil {
			return nil, listingError(err)
		}
		if group.Group == nil {
			var m Model
			if err := json.Unmarshal(item, &m); err != nil {
				return nil, listingError(err)
			}
			out = append(out, m)
			continue
		}
		for _, gm := range group.Models {
			m := Model{Group: *group.Group}
			if err := json.Unmarshal(gm, &m); err != nil {
				return nil, listingError(err)
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// Model is one model of a provider's listing. Fields the server does not send
// are zero.
type Model struct {
	ID      string   // the model's name: "id" (newer g4f) or "model" (g4f 6.x)
	Label   string   // the name to show
	Default bool     // the provider's default model
	Vision  bool     // takes images
	Image   bool     // makes images
	Audio   bool     // audio
	Video   bool     // video
	Count   int      // the provider's count for the model ("count"), 0 when not a number
	Tags    []string // the provider's tags for the model
	Group   string   // in a grouped listing, the group's name
	// Raw is the model's whole JSON object, for fields this struct does not have.
	Raw json.RawMessage
}

// UnmarshalJSON reads a model object of either g4f generation.
func (m *Model) UnmarshalJSON(data []byte) error {
	var f struct {
		ID, Model, Label                     string
		Default, Vision, Image, Audio, Video bool
		Count                                json.RawMessage
		Tags                                 []string
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return err
	}
	var count float64
	_ = json.Unmarshal(f.Count, &count) // false or null: 0
	id := f.ID
	if id == "" {
		id = f.Model
	}
	*m = Model{ID: id, Label: f.Label, Default: f.Default, Vision: f.Vision, Image: f.Image, Audio: f.Audio,
		Video: f.Video, Count: int(count), Tags: f.Tags, Group: m.Group, Raw: append(json.RawMessage(nil), data...)}
	return nil
}

func listingError(err error) error {
	return &Error{Status: StatusProtocol, Message: "the model listing: " + err.Error()}
}
