using System.Net.Http.Json;
using System.Text.Json;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary>What the demo and the benchmarks do through the API before their traffic: a tenant, its token, a started experiment.</summary>
public static class ApiSetup
{

    /// <summary>The answer's JSON; a failed answer becomes a one-line <see cref="CliException"/>.</summary>
    public static async Task<JsonDocument> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new CliException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.AbsolutePath} answered " +
                $"{(int)response.StatusCode}: {text}");
        }

        return JsonDocument.Parse(text.Length == 0 ? "{}" : text);
    }

    /// <summary>Creates a tenant (POST /v1/admin/tenants) and exchanges its API key for a token.</summary>
    public static async Task<(string TenantId, string Token, string ApiKey)> CreateTenantAsync(Uri address, string adminKey, string name, string plan,
        CancellationToken cancellationToken)
    {
        using var admin = new HttpClient { BaseAddress = address };
        admin.DefaultRequestHeaders.Add("X-Admin-Key", adminKey);
        using var created = await ReadAsync(await admin.PostAsJsonAsync("/v1/admin/tenants", new { Name = name, Plan = plan },
            PricingOptimizer.Json.Wire.Options, cancellationToken), cancellationToken);
        using var token = await ReadAsync(await admin.PostAsJsonAsync("/v1/auth/token",
            new { ApiKey = created.RootElement.GetProperty("api_key").GetString() }, PricingOptimizer.Json.Wire.Options, cancellationToken), cancellationToken);
        return (created.RootElement.GetProperty("tenant_id").GetString()!, token.RootElement.GetProperty("access_token").GetString()!,
            created.RootElement.GetProperty("api_key").GetString()!);
    }

    /// <summary>Creates and starts an experiment with equal weights; variant <paramref name="controlIndex"/> is the control.</summary>
    public static async Task CreateStartedExperimentAsync(HttpClient client, string experimentId, string currency,
        IReadOnlyList<(string Variant, decimal Price)> variants, CancellationToken cancellationToken, int controlIndex = 0, object? allocation = null)
    {
        var experiment = new
        {
            ExperimentId = experimentId,
            Name = experimentId.Replace('-', ' '),
            Currency = currency,
            Variants = variants.Select((v, i) => new { VariantId = v.Variant, v.Price, Weight = 1.0, Control = i == controlIndex }).ToList(),
            Allocation = allocation,
        };
        (await ReadAsync(await client.PostAsJsonAsync("/v1/experiments", experiment, PricingOptimizer.Json.Wire.Options, cancellationToken),
            cancellationToken)).Dispose();
        (await ReadAsync(await client.PostAsync($"/v1/experiments/{experimentId}/start", null, cancellationToken), cancellationToken)).Dispose();
    }
}
