using Microsoft.IdentityModel.JsonWebTokens;
using PricingOptimizer.Tenancy;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.Cli;

public sealed class PoCommandLineTests : IDisposable
{
    private readonly TempDirectory folder = new();

    [Fact]
    public async Task Po_token_mints_a_token_the_api_accepts_for_that_tenant()
    {
        var result = await PoProcess.RunAsync(folder.Path, new Dictionary<string, string> { ["Auth__SigningKey"] = IngestApiFactory.SigningKey },
            "token", "--tenant", "acme", "--plan", "starter");
        Assert.Equal(0, result.ExitCode);
        var token = result.Stdout.Trim();
        var validation = await new JsonWebTokenHandler().ValidateTokenAsync(token,
            new TokenIssuer(new AuthOptions { SigningKey = IngestApiFactory.SigningKey }, TimeProvider.System).ValidationParameters());
        Assert.True(validation.IsValid);
        Assert.Equal("acme", validation.Claims[TenantClaims.TenantId]);
        Assert.Equal("starter", validation.Claims[TenantClaims.Plan]);
        Assert.DoesNotContain("development key", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("token")]
    [InlineData("token", "--tenant", "../etc")]
    [InlineData("no-such-command")]
    [InlineData("compact", "--min-age-seconds", "soon")]
    public async Task Bad_input_prints_one_line_and_exits_non_zero(params string[] args)
    {
        var result = await PoProcess.RunAsync(folder.Path, null, args);
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("po: ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_signing_key_is_refused_with_the_reason()
    {
        var result = await PoProcess.RunAsync(folder.Path, new Dictionary<string, string> { ["Auth__SigningKey"] = "c2hvcnQ=" },
            "token", "--tenant", "acme");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("at least 32 bytes", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Po_power_prints_users_per_variant_by_the_textbook_formula()
    {
        var result = await PoProcess.RunAsync(folder.Path, null, "power", "--baseline-rate", "0.1", "--mde", "0.2");
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("3,841 users per variant", result.Stdout, StringComparison.Ordinal);
        var bad = await PoProcess.RunAsync(folder.Path, null, "power", "--baseline-rate", "0", "--mde", "0.2");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.StartsWith("po: ", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Po_demo_runs_end_to_end_and_finds_every_event_once()
    {
        var result = await PoProcess.RunAsync(folder.Path, null, "demo", "--data", folder.Path);
        Assert.True(result.ExitCode == 0, result.Stdout + result.Stderr);
        Assert.Contains("[9/11]", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("[10/11] the dashboard", result.Stdout, StringComparison.Ordinal);
        // The adaptive experiment: one update stored, new users on the new weights, every event landed once.
        Assert.Contains("[11/11] an adaptive experiment", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("stored version 1", result.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"4,800 users and [\d,]+ buyers in the lake: = sent", result.Stdout);
        Assert.Contains("Every accepted event is in the lake exactly once.", result.Stdout, StringComparison.Ordinal);
        Assert.True(Directory.EnumerateFiles(Path.Combine(folder.Path, "demo", "lake", "events"), "*.parquet", SearchOption.AllDirectories).Any());
        Assert.Contains("8,000 / 8,000 users assigned", result.Stdout, StringComparison.Ordinal); // progress while it runs
        Assert.Matches(@"charge \d+\.\d\d USD", result.Stdout); // the recommendation came back ok
        var reports = Directory.EnumerateFiles(Path.Combine(folder.Path, "demo", "reports"), "report.html", SearchOption.AllDirectories).ToList();
        Assert.Equal(2, reports.Count);
        Assert.All(reports, r => Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(r)!, "numbers.csv"))));
    }

    public void Dispose() => folder.Dispose();
}
