using System.Net;
using System.Text.Json;
using Npgsql;
using PricingOptimizer.Tests.Fixtures;

namespace PricingOptimizer.Tests.ControlPlane;

/// <summary>/readyz asks the event log and the control-plane store; a store that goes away makes the API not ready, saying which.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Readiness_names_both_dependencies_and_turns_503_naming_the_control_plane_when_its_database_goes_away()
    {
        var connectionString = PostgresServer.Shared.CreateDatabase();
        using var api = new IngestApiFactory(new Dictionary<string, string?> { ["Storage:ControlPlane"] = connectionString });
        using var client = api.CreateClient();

        var ready = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using (var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync()))
        {
            Assert.Equal(("ready", "embedded", "postgresql"), (body.RootElement.GetProperty("status").GetString(),
                body.RootElement.GetProperty("event_log").GetString(), body.RootElement.GetProperty("control_plane").GetString()));
        }

        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using (var admin = new NpgsqlConnection(PostgresServer.Shared.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE {database} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        var down = await client.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
        Assert.Equal("application/problem+json", down.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await down.Content.ReadAsStringAsync());
        Assert.Contains("control plane", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("embedded", problem.RootElement.GetProperty("checks").GetProperty("event_log").GetString());
        Assert.Contains("not reachable", problem.RootElement.GetProperty("checks").GetProperty("control_plane").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode); // alive, just not ready
    }
}
