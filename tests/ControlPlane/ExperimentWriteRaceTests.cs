using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.ControlPlane;

/// <summary>
/// Concurrent writes to one experiment through two API instances sharing one control plane (an SQLite file, or a
/// PostgreSQL database): no acknowledged change is lost, and a stale If-Match is 412.
/// </summary>
public abstract class ExperimentWriteRaceTests : IDisposable
{
    private const string Admin = "race-admin";
    private readonly IngestApiFactory first;
    private readonly IngestApiFactory second;

    protected ExperimentWriteRaceTests(ControlPlaneKind store)
    {
        var settings = ControlPlaneStores.With(store, new Dictionary<string, string?> { ["Auth:AdminKey"] = Admin });
        first = new IngestApiFactory(settings);
        // The second instance shares the first's data directory (its SQLite file) or its PostgreSQL database.
        second = new IngestApiFactory(settings, first.DataDirectory);
    }

    private async Task<(HttpClient A, HttpClient B)> ClientsAsync(string experimentBody)
    {
        var (tenantId, _, a) = await first.CreateTenantAsync(Admin, "Racers", "enterprise");
        var b = second.ClientFor(tenantId);
        Assert.Equal(HttpStatusCode.Created, (await a.PostAsync("/v1/experiments", IngestApiFactory.Json(experimentBody))).StatusCode);
        return (a, b);
    }

    private const string Draft = """{"experiment_id":"race","name":"n0","currency":"EUR","variants":[{"variant_id":"a","price":10,"control":true},{"variant_id":"b","price":12}]}""";

    [Fact]
    public async Task Thirty_concurrent_renames_and_moves_all_acknowledged_changes_are_in_the_final_state()
    {
        // Three rounds, each a new tenant: a lost write shows in some round even when one round happens to serialise.
        for (var round = 0; round < 3; round++)
        {
            await RenamesAndMovesRoundAsync();
        }
    }

    private async Task RenamesAndMovesRoundAsync()
    {
        var (a, b) = await ClientsAsync(Draft);
        // 30 racers over two processes: renames (always legal) and lifecycle moves (legal or 409 depending on order).
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var racers = Enumerable.Range(0, 30).Select(async i =>
        {
            await go.Task; // all at once
            var client = i % 2 == 0 ? a : b;
            using var response = i % 3 == 0
                ? await client.PostAsync("/v1/experiments/race/" + (i % 2 == 0 ? "start" : "pause"), null)
                : await client.PutAsJsonAsync("/v1/experiments/race", new { name = $"n{i}" });
            var text = await response.Content.ReadAsStringAsync();
            return (Racer: i, response.StatusCode, ETag: response.Headers.ETag?.Tag, Body: text);
        });
        var all = racers.ToList();
        go.SetResult();
        var results = await Task.WhenAll(all);

        Assert.All(results, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"racer {r.Racer}: {(int)r.StatusCode} {r.Body}"));
        Assert.All(results.Where(r => r.Racer % 3 != 0), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode)); // a rename is never refused
        var acknowledged = results.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
        // Every 200 is its own version: no two acknowledged writes share one (which is how one overwrites another).
        Assert.Equal(acknowledged.Count, acknowledged.Select(r => r.ETag).Distinct().Count());

        using var final = JsonDocument.Parse(await a.GetStringAsync("/v1/experiments/race"));
        var finalETag = (await a.GetAsync("/v1/experiments/race")).Headers.ETag!.Tag;
        // Created as version 1; each acknowledged write added exactly one.
        Assert.EndsWith($"-{1 + acknowledged.Count}\"", finalETag, StringComparison.Ordinal);
        // The last acknowledged write (the highest version) is the state: its answer and the stored experiment agree.
        var last = acknowledged.OrderBy(r => long.Parse(r.ETag!.Trim('"').Split('-')[1], System.Globalization.CultureInfo.InvariantCulture)).Last();
        using var lastBody = JsonDocument.Parse(last.Body);
        Assert.Equal(lastBody.RootElement.GetProperty("name").GetString(), final.RootElement.GetProperty("name").GetString());
        Assert.Equal(lastBody.RootElement.GetProperty("status").GetString(), final.RootElement.GetProperty("status").GetString());
    
    }

    [Fact]
    public async Task Thirty_concurrent_completes_and_pauses_one_complete_wins_and_every_200_is_true_of_the_final_state()
    {
        var (a, b) = await ClientsAsync(Draft);
        Assert.Equal(HttpStatusCode.OK, (await a.PostAsync("/v1/experiments/race/start", null)).StatusCode);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var all = Enumerable.Range(0, 30).Select(async i =>
        {
            await go.Task; // all at once
            using var response = await (i % 2 == 0 ? a : b).PostAsync("/v1/experiments/race/" + (i % 3 == 0 ? "complete" : i % 3 == 1 ? "pause" : "start"), null);
            return (Action: i % 3 == 0 ? "complete" : i % 3 == 1 ? "pause" : "start", response.StatusCode);
        }).ToList();
        go.SetResult();
        var results = await Task.WhenAll(all);

        // complete is final: exactly one complete can be acknowledged, and then the experiment is completed.
        Assert.Equal(1, results.Count(r => r is { Action: "complete", StatusCode: HttpStatusCode.OK }));
        using var final = JsonDocument.Parse(await b.GetStringAsync("/v1/experiments/race"));
        Assert.Equal("completed", final.RootElement.GetProperty("status").GetString());
        Assert.All(results, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"{r.Action}: {r.StatusCode}"));
    }

    [Fact]
    public async Task A_write_with_a_stale_If_Match_is_412_naming_If_Match_and_the_current_ETag()
    {
        var (a, b) = await ClientsAsync(Draft);
        var read = await a.GetAsync("/v1/experiments/race");
        var etag = read.Headers.ETag!.Tag;

        // Another process changes it first.
        using var rename = new HttpRequestMessage(HttpMethod.Put, "/v1/experiments/race") { Content = JsonContent.Create(new { name = "theirs" }) };
        rename.Headers.IfMatch.ParseAdd(etag);
        var theirs = await b.SendAsync(rename);
        Assert.Equal(HttpStatusCode.OK, theirs.StatusCode);
        var current = theirs.Headers.ETag!.Tag;
        Assert.NotEqual(etag, current);

        foreach (var stale in new Func<HttpRequestMessage>[]
                 {
                     () => new HttpRequestMessage(HttpMethod.Put, "/v1/experiments/race") { Content = JsonContent.Create(new { name = "mine" }) },
                     () => new HttpRequestMessage(HttpMethod.Post, "/v1/experiments/race/start"),
                     () => new HttpRequestMessage(HttpMethod.Delete, "/v1/experiments/race"),
                 })
        {
            using var request = stale();
            request.Headers.IfMatch.ParseAdd(etag);
            var response = await a.SendAsync(request);
            Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("If-Match", problem.RootElement.GetProperty("field").GetString());
            Assert.Equal(current, problem.RootElement.GetProperty("current_etag").GetString());
        }

        using var final = JsonDocument.Parse(await a.GetStringAsync("/v1/experiments/race"));
        Assert.Equal(("theirs", "draft"), (final.RootElement.GetProperty("name").GetString(), final.RootElement.GetProperty("status").GetString()));

        // With the current ETag the same write goes through.
        using var fresh = new HttpRequestMessage(HttpMethod.Put, "/v1/experiments/race") { Content = JsonContent.Create(new { name = "mine" }) };
        fresh.Headers.IfMatch.ParseAdd(current);
        Assert.Equal(HttpStatusCode.OK, (await a.SendAsync(fresh)).StatusCode);
    }

    public void Dispose()
    {
        second.Dispose();
        first.Dispose();
    }
}

public sealed class ExperimentWriteRaceTestsOnSqlite() : ExperimentWriteRaceTests(ControlPlaneKind.Sqlite);

public sealed class ExperimentWriteRaceTestsOnPostgres() : ExperimentWriteRaceTests(ControlPlaneKind.Postgres);
