package dev.pruneserve.http.openai;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pruneserve.error.ServingException;
import dev.pruneserve.http.JsonBody;
import dev.pruneserve.model.IndexEntry;
import dev.pruneserve.model.ModelRegistry;
import dev.pruneserve.variant.AliasService;
import dev.pruneserve.variant.PruneService;
import dev.pruneserve.variant.VariantManifest;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET /v1/models} and {@code /v1/models/{id}}: every name a request may send — repository
 * models, stored pruned variants ({@code parent}: the model they were pruned from) and aliases
 * ({@code root}: the variant or model they route to) — in OpenAI's model-card form plus {@code
 * kind}. Runs on a worker thread.
 */
@Path("/v1/models")
@Produces(MediaType.APPLICATION_JSON)
public class ModelsResource {
  @Inject ModelRegistry registry;
  @Inject PruneService pruning;
  @Inject AliasService aliases;

  @GET
  public String list() {
    ObjectNode root = JsonBody.JSON.createObjectNode().put("object", "list");
    ArrayNode data = root.putArray("data");
    cards().values().forEach(data::add);
    return root.toString();
  }

  @GET
  @Path("/{id}")
  public String get(@PathParam("id") String id) {
    ObjectNode card = cards().get(id);
    if (card == null) {
      throw ServingException.notFound("unknown model '" + id + "'; GET /v1/models lists the models, variants"
          + " and aliases");
    }
    return card.toString();
  }

  private Map<String, ObjectNode> cards() {
    Map<String, ObjectNode> out = new LinkedHashMap<>();
    for (VariantManifest v : pruning.variants("")) {
      out.put(v.name(), card(v.name(), "variant", created(v.createdAt())).put("parent", v.parentModel()));
    }
    for (IndexEntry e : registry.index()) {
      out.putIfAbsent(e.name(), card(e.name(), "model", 0));
    }
    aliases.list().forEach((alias, target) -> out.put(alias, card(alias, "alias", 0).put("root", target)));
    return out;
  }

  private static ObjectNode card(String id, String kind, long created) {
    return JsonBody.JSON.createObjectNode().put("id", id).put("object", "model").put("created", created)
        .put("owned_by", "pruneserve").put("kind", kind);
  }

  private static long created(String iso) {
    try {
      return Instant.parse(iso).getEpochSecond();
    } catch (RuntimeException e) {
      return 0;
    }
  }
}
