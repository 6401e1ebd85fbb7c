using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace PricingOptimizer.Tests.Fixtures;

/// <summary>
/// A private PostgreSQL server from Debian's <c>postgresql</c> package, started once per test run (initdb into a
/// temporary folder as the <c>postgres</c> user when the tests run as root, a free port on 127.0.0.1, its socket
/// in the same folder), stopped when the run ends. Each test gets its own database from <see cref="CreateDatabase"/>.
/// When the package is missing and the tests run as root, it is installed (as <c>.ci/run</c> does).
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private static readonly Lazy<PostgresServer> SharedServer = new(() =>
    {
        var server = new PostgresServer();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();
        return server;
    });

    private readonly string root;
    private readonly string bin;
    private readonly bool asPostgresUser;
    private int databases;

    public static PostgresServer Shared => SharedServer.Value;

    public int Port { get; }

    private PostgresServer()
    {
        bin = FindBin() ?? Install();
        asPostgresUser = Environment.UserName == "root";
        root = Path.Combine(Path.GetTempPath(), "po-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(root, (UnixFileMode)0x1ED); // 0755: the postgres user must reach it
        }
        if (asPostgresUser)
        {
            Run("chown", "postgres " + root);
        }

        Run(Path.Combine(bin, "initdb"), $"-D {root}/data -U po --auth=trust --no-sync -E UTF8 --locale=C.UTF-8", asPostgresUser);
        Port = FreePort();
        Run(Path.Combine(bin, "pg_ctl"), PgCtl("start"), asPostgresUser);
    }

    /// <summary>A server of its own, for a test that stops or freezes it (the shared one stays up for every other test).</summary>
    public static PostgresServer StartPrivate() => new();

    private string PgCtl(string action) =>
        $"-D {root}/data -l {root}/server.log -w -o \"-p {Port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c " +
            $"full_page_writes=off -c max_connections=400\" {action}";

    /// <summary>Stops the server as an operator's fast shutdown does (connections are closed).</summary>
    public void Stop() => Run(Path.Combine(bin, "pg_ctl"), $"-D {root}/data -m fast -w stop", asPostgresUser);

    /// <summary>Starts it again after <see cref="Stop"/>, on the same port and data.</summary>
    public void Restart() => Run(Path.Combine(bin, "pg_ctl"), PgCtl("start"), asPostgresUser);

    /// <summary>Freezes every process of the server (SIGSTOP): connections stay open and nothing answers.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Lets a frozen server go on (SIGCONT).</summary>
    public void Thaw() => Signal("CONT");

    private void Signal(string signal)
    {
        if (!File.Exists(Path.Combine(root, "data", "postmaster.pid")))
        {
            return;
        }

        var postmaster = File.ReadLines(Path.Combine(root, "data", "postmaster.pid")).First().Trim();
        // The postmaster and its children (backends, checkpointer, writers): the whole server stops answering.
        Run("/bin/sh", $"-c \"kill -{signal} {postmaster}; pkill -{signal} -P {postmaster} || true\"");
    }

    /// <summary>The connection string of the server's admin database.</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=po;Database=postgres;Pooling=false";

    /// <summary>
    /// A new, empty database; its connection string. Tests get a 15 s connect timeout, because a loaded 2-core CI machine
    /// can take longer than the product's 2 s default to accept a connection; tests of a frozen or stopped store ask for
    /// the product's own timeouts.
    /// </summary>
    public string CreateDatabase(bool productTimeouts = false)
    {
        var name = $"po_test_{Interlocked.Increment(ref databases)}_{Guid.NewGuid().ToString("N")[..8]}";
        using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }

        var connectionString = $"Host=127.0.0.1;Port={Port};Username=po;Database={name};Maximum Pool Size=20";
        return productTimeouts ? connectionString : connectionString + ";Timeout=15";
    }

    public void Dispose()
    {
        try
        {
            Run(Path.Combine(bin, "pg_ctl"), $"-D {root}/data -m immediate stop", asPostgresUser);
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }

        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string? FindBin() =>
        Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0).FirstOrDefault()
            : null;

    /// <exception cref="InvalidOperationException">The package is missing and cannot be installed here.</exception>
    private static string Install()
    {
        if (Environment.UserName != "root" || !File.Exists("/usr/bin/apt-get"))
        {
            throw new InvalidOperationException("PostgreSQL tests need Debian's postgresql package: apt-get install -y postgresql (.ci/run installs it)");
        }

        Run("/usr/bin/apt-get", "update -q", environment: ("DEBIAN_FRONTEND", "noninteractive"));
        Run("/usr/bin/apt-get", "install -y -q postgresql", environment: ("DEBIAN_FRONTEND", "noninteractive"));
        return FindBin() ?? throw new InvalidOperationException("apt-get installed postgresql but no initdb is under /usr/lib/postgresql");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Run(string file, string arguments, bool asPostgres = false, (string Name, string Value)? environment = null)
    {
        var start = asPostgres
            ? new ProcessStartInfo("runuser", $"-u postgres -- {file} {arguments}")
            : new ProcessStartInfo(file, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = "/";
        if (environment is { } variable)
        {
            start.Environment[variable.Name] = variable.Value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} {arguments} exited with {process.ExitCode}: {error.Result}{output.Result}");
        }
    }
}
