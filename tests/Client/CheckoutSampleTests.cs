using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Client;

/// <summary>
/// <c>samples/checkout</c>, the SDK's sample app, run as a shop runs it: against the API in its own process, then with
/// the experiment paused, then with nothing listening. Every visitor is shown a price each time, and it exits 0.
/// </summary>
public sealed partial class CheckoutSampleTests : IDisposable
{
    private const string AdminKey = "sample-admin";
    private const string Sample = "PricingOptimizer.Samples.Checkout.dll";
    private readonly TempDirectory temp = new();
    private ServiceProcess? api;

    public void Dispose()
    {
        api?.Dispose();
        temp.Dispose();
    }

    [GeneratedRegex(@"^(visitor-\d+): ([\d.]+) (\w*) \((.+)\)$", RegexOptions.Multiline)]
    private static partial Regex Shown();

    [Fact]
    public async Task The_sample_shows_each_visitor_the_servers_price_and_falls_back_when_paused_or_unreachable()
    {
        api = await ServiceProcess.StartApiAsync(new Dictionary<string, string>
        {
            ["Storage__DataDirectory"] = temp.Path,
            ["Auth__SigningKey"] = IngestApiFactory.SigningKey,
            ["Auth__AdminKey"] = AdminKey,
            ["Logging__LogLevel__Default"] = "Warning",
        });
        var (apiKey, http) = await api.CreateTenantAsync(AdminKey, "Sample shop", "pro");
        using var _ = http;
        var created = await http.PostAsync("/v1/experiments", IngestApiFactory.Json(
            """{"experiment_id":"spring","name":"Spring","currency":"USD","variants":[{"variant_id":"p999","price":9.99,"control":true},{"variant_id":"p1199","price":11.99}]}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        (await http.PostAsync("/v1/experiments/spring/start", null)).EnsureSuccessStatusCode();

        // Live: each visitor's price is the one the API assigns that visitor. A fresh API process on a busy test machine may
        // take seconds to answer its first request (which is what the fallback is for), so here the sample may wait.
        var live = await RunAsync(api.BaseAddress!, apiKey, "--users", "12", "--default-price", "8.50", "--timeout-ms", "60000");
        var shown = Shown().Matches(live.Stdout).ToList();
        Assert.Equal(12, shown.Count);
        foreach (Match line in shown)
        {
            var server = await (await http.PostAsJsonAsync("/v1/assign", new { experiment_id = "spring", user_id = line.Groups[1].Value }))
                .Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(server.GetProperty("variant_id").GetString(), line.Groups[4].Value);
            Assert.Equal(server.GetProperty("price").GetDecimal(), decimal.Parse(line.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        }

        Assert.Contains("fallbacks: none", live.Stdout, StringComparison.Ordinal);

        // Paused: everyone sees the control, outside the test.
        (await http.PostAsync("/v1/experiments/spring/pause", null)).EnsureSuccessStatusCode();
        var paused = await RunAsync(api.BaseAddress!, apiKey, "--users", "5", "--default-price", "8.50", "--timeout-ms", "60000");
        Assert.All(Shown().Matches(paused.Stdout), m => Assert.Equal(("9.99", "fallback: not_active"), (m.Groups[2].Value, m.Groups[4].Value)));
        Assert.Contains("fallbacks: not_active 5", paused.Stdout, StringComparison.Ordinal);

        // Nothing listening: the caller's default, a warning in the log, exit 0.
        var address = api.BaseAddress!;
        api.Dispose();
        api = null;
        var down = await RunAsync(address, apiKey, "--users", "5", "--default-price", "8.50");
        var fallbacks = Shown().Matches(down.Stdout).ToList();
        Assert.Equal(5, fallbacks.Count);
        Assert.All(fallbacks, m => Assert.Equal(("8.50", "fallback: unreachable"), (m.Groups[2].Value, m.Groups[4].Value)));
        Assert.Contains("fell back to the default price", down.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sample_says_how_to_call_it_when_an_argument_is_missing()
    {
        var result = await PoProcess.RunDllAsync(Sample, temp.Path, null, "--api", "http://127.0.0.1:1");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("usage: checkout --api URL --key API_KEY --experiment ID", result.Stderr, StringComparison.Ordinal);
    }

    private async Task<PoProcess.Result> RunAsync(Uri address, string apiKey, params string[] more)
    {
        var result = await PoProcess.RunDllAsync(Sample, temp.Path, null, ["--api", address.ToString(), "--key", apiKey, "--experiment", "spring", .. more]);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stdout}\n{result.Stderr}");
        return result;
    }
}
